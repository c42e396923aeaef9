using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Clearflow.TestSupport;

/// <summary>
/// A local stand-in for PayU India on loopback, so the PayU connector can be tested over real HTTP without a
/// network or a PayU account. It speaks the slice of the legacy protocol the connector uses: the hosted
/// checkout form post (<c>/_payment</c>), the browser's return to <c>surl</c>/<c>furl</c>, the
/// server-to-server notification, and <c>merchant/postservice.php?form=2</c> with <c>verify_payment</c>,
/// <c>cancel_refund_transaction</c> and <c>check_action_status</c>. Every message is protected by a salted
/// SHA-512 hash (not an HMAC), and amounts are major-unit decimal strings such as <c>499.00</c>.
/// </summary>
/// <remarks>
/// <para>
/// PayU has no server-side order creation: the customer's browser posts the merchant's hashed form to
/// <c>/_payment</c>, which is the moment this fake learns of a transaction. A test then plays the customer
/// with <see cref="PayAsync"/> or <see cref="FailAsync"/>; both post the browser back to <c>surl</c>/<c>furl</c>
/// and send the notification to <see cref="NotifyTarget"/> before they return, so a test can assert on
/// Clearflow's state straight after them.
/// </para>
/// <para>
/// Like PayU, the fake answers most mistakes with HTTP 200: a bad checkout form gets an HTML error page, a bad
/// postservice call gets <c>{"status":0,"msg":...}</c>. Only injected failures (<see cref="FailNextRequests"/>)
/// and unknown paths use other status codes.
/// </para>
/// </remarks>
public sealed class FakePayU : IAsyncDisposable
{
    public const string MerchantKey = "fakeKey01";
    public const string Salt = "fakeSaltVersion1Secret0001";

    /// <summary>How the server-to-server notification reaches <see cref="NotifyTarget"/>.</summary>
    public enum Delivery
    {
        /// <summary>Each notification is sent once (plus retries when it is not acknowledged).</summary>
        Once,

        /// <summary>Each notification is sent twice, identical: the receiver must deduplicate.</summary>
        Duplicate,
    }

    private const string HashError = "Transaction failed due to incorrectly calculated hash parameter.";
    private const string FetchedSuccessfully = " Transactions Fetched Successfully";
    private const string Digits = "0123456789";
    private const int MaxTxnIdLength = 25;

    /// <summary>How many more times a notification is attempted after a non-2xx answer (or no answer).</summary>
    private const int NotifyRetries = 2;

    /// <summary>The checkout fields a merchant must send besides <c>key</c> and <c>hash</c>.</summary>
    private static readonly string[] Mandatory = ["txnid", "amount", "productinfo", "firstname", "email", "phone", "surl", "furl"];

    private static readonly string[] UserFields = ["udf1", "udf2", "udf3", "udf4", "udf5"];

    /// <summary>PayU writes text literally; tests may match messages as raw text.</summary>
    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>PayU stamps <c>addedon</c> in Indian Standard Time.</summary>
    private static readonly TimeSpan Ist = new(5, 30, 0);

    /// <summary>
    /// Shared by the browser returns and the notifications. Redirects are not followed (a 3xx is recorded as
    /// it is) and no cookies are kept, so one test's answers never leak into another's.
    /// </summary>
    private static readonly HttpClient Outbound = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Guards every piece of mutable state below; never held across an await.</summary>
    private readonly Lock _gate = new();

    /// <summary>The loopback app, the request log, and the outage and injected-failure gates.</summary>
    private readonly LoopbackGateway _server;

    /// <summary>
    /// Notification delivery; its one-at-a-time rule also covers the browser return before it, so the order a
    /// test causes posts in is the order Clearflow sees them.
    /// </summary>
    private readonly WebhookSender<Dictionary<string, string>> _notifier;

    private readonly Dictionary<string, TxnState> _txns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TxnState> _byPayuId = new(StringComparer.Ordinal);

    /// <summary>Refunds by <c>request_id</c>.</summary>
    private readonly Dictionary<string, RefundState> _refunds = new(StringComparer.Ordinal);

    /// <summary>The merchant's refund token (<c>var2</c>) → the refund it created.</summary>
    private readonly Dictionary<string, RefundState> _refundTokens = new(StringComparer.Ordinal);

    private readonly List<(string Url, int Status)> _browserReturns = [];
    private long _nextPayuId = 403993715000000 + RandomNumberGenerator.GetInt32(100_000_000);
    private long _nextRequestId = 130000000 + RandomNumberGenerator.GetInt32(10_000_000);
    private bool _failNextRefund;

    private FakePayU()
    {
        _server = new LoopbackGateway(_gate);
        _notifier = new WebhookSender<Dictionary<string, string>>(_gate, (target, fields, _) => PostFormAsync(target, fields, "PayU-Webhook/1.0"))
        {
            Retries = NotifyRetries,
        };
    }

    /// <summary>
    /// Root of the fake, ending in a slash, so <c>new Uri(BaseAddress, "_payment")</c> and
    /// <c>new Uri(BaseAddress, "merchant/postservice.php?form=2")</c> work.
    /// </summary>
    public Uri BaseAddress => _server.BaseAddress;

    /// <summary>Where the server-to-server notification is POSTed; null means none is sent.</summary>
    public Uri? NotifyTarget
    {
        get => _notifier.Target;
        set => _notifier.Target = value;
    }

    public Delivery Habit
    {
        // Delivery is numbered as DeliveryHabit is.
        get => (Delivery)_notifier.Habit;
        set => _notifier.Habit = (DeliveryHabit)value;
    }

    /// <summary>When true, every request is recorded and then its connection is reset, as in an outage.</summary>
    public bool Unreachable
    {
        get => _server.Unreachable;
        set => _server.Unreachable = value;
    }

    /// <summary>
    /// Every request received (including refused and aborted ones), in arrival order; the command is the
    /// postservice <c>command</c> field when one was sent.
    /// </summary>
    public IReadOnlyList<(string Method, string Path, string? Command)> Requests => _server.Requests;

    /// <summary>Every post of the browser back to <c>surl</c>/<c>furl</c> and the HTTP status it got; 0 when there was no answer.</summary>
    public IReadOnlyList<(string Url, int Status)> BrowserReturns
    {
        get
        {
            lock (_gate)
            {
                return _browserReturns.ToArray();
            }
        }
    }

    /// <summary>The HTTP status of every notification attempt, in order; 0 when the target did not answer.</summary>
    public IReadOnlyList<int> NotifyAnswers => _notifier.Answers;

    public static async Task<FakePayU> StartAsync()
    {
        var fake = new FakePayU();
        await fake._server.StartAsync(fake.AdmitAsync, app =>
        {
            app.MapPost("/_payment", (HttpContext context) => fake.CheckoutAsync(context));
            app.MapPost("/merchant/postservice.php", (HttpContext context) => fake.PostServiceAsync(context));
            app.MapFallback((HttpContext context) => WriteAsync(context, new Reply(404, "text/html; charset=utf-8",
                Page("404 Not Found", "<h1>404 Not Found</h1>"))));
        });
        return fake;
    }

    /// <summary>
    /// The customer pays by card: the transaction becomes <c>success</c>/<c>captured</c> with a bank reference,
    /// the browser is posted back to <c>surl</c>, then the notification is sent.
    /// </summary>
    public Task PayAsync(string txnid) => CompleteAsync(txnid, success: true);

    /// <summary>
    /// The customer cancels on the checkout page: the transaction becomes <c>failure</c>/<c>userCancelled</c>,
    /// the browser is posted back to <c>furl</c>, then the notification is sent.
    /// </summary>
    public Task FailAsync(string txnid) => CompleteAsync(txnid, success: false);

    /// <summary>The next refund queued ends <c>failure</c> instead of <c>success</c> at its first status check.</summary>
    public void FailNextRefund()
    {
        lock (_gate)
        {
            _failNextRefund = true;
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> requests (checkout posts and postservice calls alike) answer
    /// <paramref name="statusCode"/> with an HTML error page, as PayU's front end does; nothing is executed
    /// and no refund token is remembered.
    /// </summary>
    public void FailNextRequests(int count, int statusCode = 500) => _server.FailNextRequests(count, statusCode);

    /// <summary>
    /// The transaction's stored fields (what the checkout form carried, with <c>amount</c> written with two
    /// decimals, plus <c>mihpayid</c>, <c>status</c>, <c>unmappedstatus</c>, <c>bank_ref_num</c>, <c>bankcode</c>,
    /// <c>error</c>, <c>error_Message</c>, <c>addedon</c> and <c>amount_refunded</c>), or null if there is none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Transaction(string txnid)
    {
        lock (_gate)
        {
            return _txns.TryGetValue(txnid, out var txn) ? txn.Snapshot(Refunded(txn)) : null;
        }
    }

    /// <summary>Lowercase hex SHA-512 of the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static string Sha512(string text) => Convert.ToHexStringLower(SHA512.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// The checkout form's <c>hash</c>:
    /// <c>sha512(key|txnid|amount|productinfo|firstname|email|udf1|udf2|udf3|udf4|udf5||||||SALT)</c>.
    /// Absent fields count as empty.
    /// </summary>
    public static string RequestHash(IReadOnlyDictionary<string, string> fields, string salt)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return Sha512(string.Join('|',
            Get(fields, "key"), Get(fields, "txnid"), Get(fields, "amount"), Get(fields, "productinfo"),
            Get(fields, "firstname"), Get(fields, "email"),
            Get(fields, "udf1"), Get(fields, "udf2"), Get(fields, "udf3"), Get(fields, "udf4"), Get(fields, "udf5"),
            "", "", "", "", "",
            salt));
    }

    /// <summary>
    /// The reverse hash PayU puts in the return and notification fields:
    /// <c>sha512([additionalCharges|]SALT|status||||||udf5|udf4|udf3|udf2|udf1|email|firstname|productinfo|amount|txnid|key)</c>,
    /// the <c>additionalCharges|</c> prefix only when that field is present and not empty.
    /// </summary>
    public static string ResponseHash(IReadOnlyDictionary<string, string> fields, string salt)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var text = string.Join('|',
            salt, Get(fields, "status"),
            "", "", "", "", "",
            Get(fields, "udf5"), Get(fields, "udf4"), Get(fields, "udf3"), Get(fields, "udf2"), Get(fields, "udf1"),
            Get(fields, "email"), Get(fields, "firstname"), Get(fields, "productinfo"), Get(fields, "amount"),
            Get(fields, "txnid"), Get(fields, "key"));
        var charges = Get(fields, "additionalCharges");
        return Sha512(charges.Length == 0 ? text : charges + "|" + text);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _notifier.Dispose();
    }

    // ---- request pipeline -------------------------------------------------------------------------

    /// <summary>Records the request, then plays the outage and injected-failure gates.</summary>
    private async Task<bool> AdmitAsync(HttpContext context)
    {
        var request = context.Request;
        var form = await ReadFormAsync(request);
        var command = Field(form, "command");
        // PayU checks no credentials at the door: a wrong key or hash is answered by the endpoint itself.
        return await _server.AdmitAsync(context, command.Length == 0 ? null : command,
            () => null,
            status => new Reply(status, "text/html; charset=utf-8", Page("PayU", string.Create(CultureInfo.InvariantCulture,
                $"<h1>{status} {WebUtility.HtmlEncode(ReasonPhrases.GetReasonPhrase(status))}</h1><p>Injected by FakePayU.</p>"))),
            WriteAsync);
    }

    private async Task CheckoutAsync(HttpContext context)
    {
        var form = await ReadFormAsync(context.Request);
        Reply reply;
        lock (_gate)
        {
            reply = Initiate(form);
        }
        await WriteAsync(context, reply);
    }

    private async Task PostServiceAsync(HttpContext context)
    {
        var form = await ReadFormAsync(context.Request);
        var jsonWanted = string.Equals(context.Request.Query["form"].ToString(), "2", StringComparison.Ordinal);
        Reply reply;
        lock (_gate)
        {
            reply = PostService(form, jsonWanted);
        }
        await WriteAsync(context, reply);
    }

    /// <summary>The form fields, or none when the body is not a (well-formed) form; read once and cached by ASP.NET.</summary>
    private static async Task<IFormCollection> ReadFormAsync(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return FormCollection.Empty;
        }
        try
        {
            return await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return FormCollection.Empty;
        }
    }

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = reply.ContentType;
        await response.WriteAsync(reply.Body);
    }

    // ---- endpoints (called with _gate held) --------------------------------------------------------

    /// <summary>
    /// The checkout form post. A wrong key or hash gets PayU's hash error page and records nothing; a valid
    /// post stores a <c>pending</c>/<c>initiated</c> transaction and shows the checkout page. Posting the very
    /// same form again while it is pending (a browser resubmit) shows the page again; any other reuse of a
    /// txnid is refused.
    /// </summary>
    private Reply Initiate(IFormCollection form)
    {
        var fields = Fields(form);
        var hash = Get(fields, "hash");
        if (!string.Equals(Get(fields, "key"), MerchantKey, StringComparison.Ordinal)
            || !string.Equals(hash, RequestHash(fields, Salt), StringComparison.Ordinal))
        {
            return ErrorPage(HashError, "Please check the hash calculation: key, salt and the order of the fields must be exact.");
        }
        foreach (var name in Mandatory)
        {
            if (Get(fields, name).Length == 0)
            {
                return ErrorPage("Mandatory param " + name + " is missing.", "Please send all mandatory parameters in the request.");
            }
        }
        var txnid = Get(fields, "txnid");
        if (txnid.Length > MaxTxnIdLength)
        {
            return ErrorPage(string.Create(CultureInfo.InvariantCulture, $"Transaction id exceeds the maximum length of {MaxTxnIdLength} characters."),
                "Please send a shorter txnid.");
        }
        if (!TryAmount(Get(fields, "amount"), out var amount))
        {
            return ErrorPage("Invalid amount.", "Please send a positive amount with at most two decimals, such as 499.00.");
        }
        var surl = Get(fields, "surl");
        var furl = Get(fields, "furl");
        if (!IsWebUrl(surl) || !IsWebUrl(furl))
        {
            return ErrorPage("Invalid surl or furl.", "Please send absolute http or https return URLs.");
        }
        if (_txns.TryGetValue(txnid, out var known))
        {
            return known.Status is "pending" && string.Equals(known.RequestHash, hash, StringComparison.Ordinal)
                ? CheckoutPage(known)
                : ErrorPage("Duplicate transaction id " + txnid + ".", "Please use a new txnid for every payment attempt.");
        }
        var payuId = _nextPayuId++;
        var txn = new TxnState
        {
            TxnId = txnid,
            PayuId = payuId,
            Amount = amount,
            ProductInfo = Get(fields, "productinfo"),
            FirstName = Get(fields, "firstname"),
            Email = Get(fields, "email"),
            Phone = Get(fields, "phone"),
            Surl = surl,
            Furl = furl,
            Udf = [.. UserFields.Select(name => Get(fields, name))],
            RequestHash = hash,
            AddedOn = DateTimeOffset.UtcNow.ToOffset(Ist).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        };
        _txns[txnid] = txn;
        _byPayuId[txn.PayuIdText] = txn;
        return CheckoutPage(txn);
    }

    /// <summary>The postservice API: a salted hash over <c>key|command|var1</c>, then the command; PayU's legacy errors are 200s.</summary>
    private Reply PostService(IFormCollection form, bool jsonWanted)
    {
        var key = Field(form, "key");
        var command = Field(form, "command");
        var var1 = Field(form, "var1");
        if (!string.Equals(key, MerchantKey, StringComparison.Ordinal)
            || !string.Equals(Field(form, "hash"), Sha512(string.Join('|', key, command, var1, Salt)), StringComparison.Ordinal))
        {
            return Failed("Invalid Hash.");
        }
        if (!jsonWanted)
        {
            // Without form=2 PayU answers in PHP's serialize() format, which the connector must never rely on.
            return Failed("FakePayU only speaks form=2 (JSON); add ?form=2 to the URL.");
        }
        return command switch
        {
            "verify_payment" => Verify(var1),
            "cancel_refund_transaction" => QueueRefund(var1, Field(form, "var2"), Field(form, "var3")),
            "check_action_status" => ActionStatus(var1),
            _ => Failed("Invalid command: " + command),
        };
    }

    /// <summary><c>verify_payment</c>: one entry per txnid asked for (several are joined by <c>|</c>), unknown ones as <c>Not Found</c>.</summary>
    private Reply Verify(string var1)
    {
        var ids = var1.Split('|').Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        var details = new JsonObject();
        var found = 0;
        foreach (var id in ids)
        {
            if (_txns.TryGetValue(id, out var txn))
            {
                details[id] = txn.ToVerifyJson();
                found++;
            }
            else
            {
                details[id] = new JsonObject { ["mihpayid"] = "Not Found", ["status"] = "Not Found" };
            }
        }
        return Json(new JsonObject
        {
            ["status"] = found > 0 ? 1 : 0,
            ["msg"] = Fetched(found, ids.Length),
            ["transaction_details"] = details,
        });
    }

    /// <summary>
    /// <c>cancel_refund_transaction</c>: queues a refund of <paramref name="amountText"/> on the captured payment
    /// <paramref name="payuId"/>. A token seen before answers with the refund it queued; only refunds actually
    /// queued remember their token.
    /// </summary>
    private Reply QueueRefund(string payuId, string token, string amountText)
    {
        if (token.Length == 0)
        {
            return Failed("Token is missing (var2).");
        }
        if (_refundTokens.TryGetValue(token, out var prior))
        {
            return string.Equals(prior.Txn.PayuIdText, payuId, StringComparison.Ordinal)
                ? Queued(prior)
                : Failed("Token " + token + " was already used for a refund on another transaction.");
        }
        if (!_byPayuId.TryGetValue(payuId, out var txn))
        {
            return Failed("Invalid mihpayid: no such transaction.");
        }
        if (!TryAmount(amountText, out var amount))
        {
            return Failed("Invalid amount (var3).");
        }
        if (txn.Status is not "success")
        {
            return Failed("Refund is not possible: the transaction is not captured.");
        }
        if (amount > txn.Amount - Reserved(txn))
        {
            return Failed("Refund amount is greater than the available amount");
        }
        var refund = new RefundState
        {
            RequestId = (_nextRequestId++).ToString(CultureInfo.InvariantCulture),
            Txn = txn,
            Token = token,
            Amount = amount,
            WillFail = _failNextRefund,
        };
        _failNextRefund = false;
        _refunds[refund.RequestId] = refund;
        _refundTokens[token] = refund;
        return Queued(refund);
    }

    /// <summary>
    /// <c>check_action_status</c>: answers with the refund as it is, then settles a queued one, so the first
    /// check sees <c>queued</c> and later ones the outcome.
    /// </summary>
    private Reply ActionStatus(string requestId)
    {
        if (!_refunds.TryGetValue(requestId, out var refund))
        {
            return Json(new JsonObject
            {
                ["status"] = 0,
                ["msg"] = Fetched(0, 1),
                ["transaction_details"] = new JsonObject(),
            });
        }
        var reply = Json(new JsonObject
        {
            ["status"] = 1,
            ["msg"] = Fetched(1, 1),
            ["transaction_details"] = new JsonObject
            {
                [requestId] = new JsonObject { [requestId] = refund.ToJson() },
            },
        });
        if (refund.Status is "queued")
        {
            refund.Status = refund.WillFail ? "failure" : "success";
        }
        return reply;
    }

    // ---- completing a payment ---------------------------------------------------------------------

    private async Task CompleteAsync(string txnid, bool success)
    {
        Dictionary<string, string> fields;
        Uri back;
        lock (_gate)
        {
            if (!_txns.TryGetValue(txnid, out var txn))
            {
                throw new InvalidOperationException($"FakePayU has no transaction {txnid}.");
            }
            if (txn.Status is not "pending")
            {
                throw new InvalidOperationException($"Cannot {(success ? "pay" : "fail")} {txnid}: it is {txn.Status}.");
            }
            txn.BankCode = "CC";
            if (success)
            {
                txn.Status = "success";
                txn.Unmapped = "captured";
                txn.BankRef = RandomNumberGenerator.GetString(Digits, 12);
                txn.Error = "E000";
                txn.ErrorMessage = "No Error";
            }
            else
            {
                // Illustrative failure code and text; connectors must key on status/unmappedstatus, not on these.
                txn.Status = "failure";
                txn.Unmapped = "userCancelled";
                txn.Error = "E1605";
                txn.ErrorMessage = "Transaction cancelled by user";
            }
            fields = txn.ReturnFields();
            back = new Uri(success ? txn.Surl : txn.Furl);
        }
        await _notifier.DeliverAfterAsync(async () =>
        {
            var status = await PostFormAsync(back, fields, "Mozilla/5.0 (FakePayU browser)");
            lock (_gate)
            {
                _browserReturns.Add((back.ToString(), status));
            }
        }, fields);
    }

    private static async Task<int> PostFormAsync(Uri target, Dictionary<string, string> fields, string userAgent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new FormUrlEncodedContent(fields),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        return await LoopbackGateway.StatusOfAsync(Outbound, request);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /// <summary>What is refunded or on its way to be: every refund that has not failed.</summary>
    private decimal Reserved(TxnState txn) =>
        _refunds.Values.Where(r => ReferenceEquals(r.Txn, txn) && r.Status is not "failure").Sum(r => r.Amount);

    private decimal Refunded(TxnState txn) =>
        _refunds.Values.Where(r => ReferenceEquals(r.Txn, txn) && r.Status is "success").Sum(r => r.Amount);

    private static Reply Queued(RefundState refund) => Json(new JsonObject
    {
        ["status"] = 1,
        ["msg"] = "Refund Request Queued",
        ["request_id"] = refund.RequestId,
        ["bank_ref_num"] = null,
        ["mihpayid"] = refund.Txn.PayuId,
        ["error_code"] = 102,
    });

    private static string Fetched(int found, int asked) =>
        string.Create(CultureInfo.InvariantCulture, $"{found} out of {asked}") + FetchedSuccessfully;

    private static Reply Failed(string message) => Json(new JsonObject { ["status"] = 0, ["msg"] = message });

    private static Reply Json(JsonObject body) => new(200, "application/json", body.ToJsonString(Wire));

    private static Reply CheckoutPage(TxnState txn) => new(200, "text/html; charset=utf-8", Page("PayU",
        "<h1>PayU fake checkout for " + WebUtility.HtmlEncode(txn.TxnId) + "</h1>"
        + "<p>Amount: INR " + Money(txn.Amount) + "</p>"
        + "<p>" + WebUtility.HtmlEncode(txn.ProductInfo) + "</p>"));

    /// <summary>PayU's habit: a 200 page with the reason, never an error status.</summary>
    private static Reply ErrorPage(string reason, string action) => new(200, "text/html; charset=utf-8", Page("PayU",
        "<div class=\"error\"><p>Error Reason: " + WebUtility.HtmlEncode(reason) + "</p>"
        + "<p>Corrective Action: " + WebUtility.HtmlEncode(action) + "</p></div>"));

    private static string Page(string title, string body) =>
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body>" + body + "</body></html>";

    private static Dictionary<string, string> Fields(IFormCollection form)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in form)
        {
            fields[name] = value.ToString();
        }
        return fields;
    }

    private static string Field(IFormCollection form, string name) => form[name].ToString();

    private static string Get(IReadOnlyDictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) ? value ?? "" : "";

    /// <summary>A positive major-unit amount with at most two significant decimals (<c>499</c>, <c>499.5</c>, <c>499.00</c>).</summary>
    private static bool TryAmount(string text, out decimal amount) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount)
        && amount > 0
        && decimal.Round(amount, 2) == amount;

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private static bool IsWebUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private sealed record Reply(int Status, string ContentType, string Body);

    private sealed class TxnState
    {
        public required string TxnId { get; init; }
        public required long PayuId { get; init; }
        public required decimal Amount { get; init; }
        public required string ProductInfo { get; init; }
        public required string FirstName { get; init; }
        public required string Email { get; init; }
        public required string Phone { get; init; }
        public required string Surl { get; init; }
        public required string Furl { get; init; }
        public required string[] Udf { get; init; }
        public required string RequestHash { get; init; }
        public required string AddedOn { get; init; }
        public string Status { get; set; } = "pending";
        public string Unmapped { get; set; } = "initiated";
        public string BankRef { get; set; } = "";
        public string BankCode { get; set; } = "";
        public string Error { get; set; } = "";
        public string ErrorMessage { get; set; } = "";

        public string PayuIdText => PayuId.ToString(CultureInfo.InvariantCulture);

        /// <summary>The fields posted to <c>surl</c>/<c>furl</c> and to the notification target, hash last.</summary>
        public Dictionary<string, string> ReturnFields()
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["mihpayid"] = PayuIdText,
                ["status"] = Status,
                ["unmappedstatus"] = Unmapped,
                ["txnid"] = TxnId,
                ["amount"] = Money(Amount),
                ["productinfo"] = ProductInfo,
                ["firstname"] = FirstName,
                ["email"] = Email,
            };
            for (var i = 0; i < UserFields.Length; i++)
            {
                fields[UserFields[i]] = Udf[i];
            }
            fields["error"] = Error;
            fields["error_Message"] = ErrorMessage;
            fields["bank_ref_num"] = BankRef;
            fields["key"] = MerchantKey;
            fields["hash"] = ResponseHash(fields, Salt);
            return fields;
        }

        public JsonObject ToVerifyJson()
        {
            var json = new JsonObject
            {
                ["mihpayid"] = PayuIdText,
                ["request_id"] = "",
                ["bank_ref_num"] = BankRef,
                ["amt"] = Money(Amount),
                ["transaction_amount"] = Money(Amount),
                ["txnid"] = TxnId,
                ["additional_charges"] = "0.00",
                ["productinfo"] = ProductInfo,
                ["firstname"] = FirstName,
                ["bankcode"] = BankCode,
            };
            for (var i = 0; i < UserFields.Length; i++)
            {
                json[UserFields[i]] = Udf[i];
            }
            json["addedon"] = AddedOn;
            json["status"] = Status;
            json["unmappedstatus"] = Unmapped;
            json["error_code"] = Error;
            json["Error_Message"] = ErrorMessage;
            return json;
        }

        public IReadOnlyDictionary<string, string> Snapshot(decimal refunded)
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["key"] = MerchantKey,
                ["txnid"] = TxnId,
                ["amount"] = Money(Amount),
                ["productinfo"] = ProductInfo,
                ["firstname"] = FirstName,
                ["email"] = Email,
                ["phone"] = Phone,
                ["surl"] = Surl,
                ["furl"] = Furl,
            };
            for (var i = 0; i < UserFields.Length; i++)
            {
                fields[UserFields[i]] = Udf[i];
            }
            fields["hash"] = RequestHash;
            fields["mihpayid"] = PayuIdText;
            fields["status"] = Status;
            fields["unmappedstatus"] = Unmapped;
            fields["bank_ref_num"] = BankRef;
            fields["bankcode"] = BankCode;
            fields["error"] = Error;
            fields["error_Message"] = ErrorMessage;
            fields["addedon"] = AddedOn;
            fields["amount_refunded"] = Money(refunded);
            return fields;
        }
    }

    private sealed class RefundState
    {
        public required string RequestId { get; init; }
        public required TxnState Txn { get; init; }
        public required string Token { get; init; }
        public required decimal Amount { get; init; }
        public bool WillFail { get; init; }
        public string Status { get; set; } = "queued";

        public JsonObject ToJson() => new()
        {
            ["mihpayid"] = Txn.PayuIdText,
            ["action"] = "refund",
            ["token"] = Token,
            ["status"] = Status,
            ["amount"] = Money(Amount),
        };
    }
}
