using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Clearflow.TestSupport;

/// <summary>
/// A local stand-in for the Razorpay API on loopback, so the Razorpay connector can be tested over real HTTP
/// without a network or a Razorpay account. It speaks the slice of the protocol the connector uses
/// (orders, payments, refunds, basic auth, JSON bodies, refund idempotency keys, signed webhooks, settlement
/// reconciliation) and lets a test play the customer (pay, fail a payment), the network (outages, 5xx answers,
/// duplicated or reordered webhook deliveries) and Razorpay's settlement run (<see cref="Settle"/>).
/// </summary>
/// <remarks>
/// <para>
/// Webhooks are delivered before <see cref="PayAsync"/> and <see cref="FailPaymentAsync"/> return, so a test
/// can assert on Clearflow's state straight after them. The one exception is <c>refund.processed</c> /
/// <c>refund.failed</c>, which happen while the connector is reading a refund; they are sent in the
/// background and <see cref="WaitForDeliveriesAsync"/> waits for them.
/// </para>
/// <para>
/// Unlike Stripe, Razorpay has no idempotency key on order creation: posting the same <c>receipt</c> twice
/// creates two orders, and so does this fake. Only refunds take a key (<c>X-Refund-Idempotency</c>).
/// </para>
/// </remarks>
public sealed class FakeRazorpay : IAsyncDisposable
{
    public const string KeyId = "rzp_test_fakeKey0000001";
    public const string KeySecret = "fakeKeySecret00000000001";
    public const string WebhookSecret = "fake_webhook_secret_0001";

    /// <summary>How a webhook event reaches <see cref="WebhookTarget"/>; real Razorpay does all three from time to time.</summary>
    public enum Delivery
    {
        /// <summary>Each event is sent once (plus retries when it is not acknowledged).</summary>
        Once,

        /// <summary>Each event is sent twice with the same <c>X-Razorpay-Event-Id</c>: the receiver must deduplicate.</summary>
        Duplicate,

        /// <summary>Events are queued until <see cref="ReleaseHeldAsync"/>, which sends them newest first: the receiver must cope with stale events.</summary>
        HeldThenReversed,
    }

    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string RefundKeyHeader = "X-Refund-Idempotency";
    private const string BadRequest = "BAD_REQUEST_ERROR";
    private const long MinimumAmount = 100;
    private const int MinimumRefundKeyLength = 10;
    private const int MaxReceiptLength = 40;
    private const int MaxNotes = 15;
    private const int MaxNoteValueLength = 256;
    private const int UtrLength = 12;
    private const int MinYear = 1000;
    private const int MaxYear = 9999;

    /// <summary>Razorpay writes non-ASCII text literally; tests may match descriptions as raw text.</summary>
    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Guards every piece of mutable state below; never held across an await.</summary>
    private readonly Lock _gate = new();

    /// <summary>The loopback app, the request log, and the outage and injected-failure gates.</summary>
    private readonly LoopbackGateway _server;

    /// <summary>Webhook delivery: habit, one at a time, retries, answers, background deliveries.</summary>
    private readonly WebhookSender<Hook> _hooks;

    private readonly Dictionary<string, OrderState> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PaymentState> _payments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RefundState> _refunds = new(StringComparer.Ordinal);

    /// <summary><c>X-Refund-Idempotency</c> value → the refund it created.</summary>
    private readonly Dictionary<string, string> _refundKeys = new(StringComparer.Ordinal);

    /// <summary>Every settled payment and refund, in the order <see cref="Settle"/> settled them.</summary>
    private readonly List<SettledEntry> _settled = [];

    private bool _failNextRefund;

    private FakeRazorpay()
    {
        _server = new LoopbackGateway(_gate);
        _hooks = new WebhookSender<Hook>(_gate, (target, evt, _) => PostEventAsync(target, evt));
    }

    /// <summary>Root of the fake API, ending in a slash so <c>new Uri(BaseAddress, "v1/...")</c> works.</summary>
    public Uri BaseAddress => _server.BaseAddress;

    /// <summary>Where events are POSTed; null means events are dropped (nothing is sent or queued).</summary>
    public Uri? WebhookTarget
    {
        get => _hooks.Target;
        set => _hooks.Target = value;
    }

    public Delivery Habit
    {
        // Delivery is numbered as DeliveryHabit is.
        get => (Delivery)_hooks.Habit;
        set => _hooks.Habit = (DeliveryHabit)value;
    }

    /// <summary>When true, every API request is recorded and then its connection is reset, as in an outage.</summary>
    public bool Unreachable
    {
        get => _server.Unreachable;
        set => _server.Unreachable = value;
    }

    /// <summary>
    /// How many more times a delivery is attempted after a non-2xx answer (or no answer), 200 ms apart.
    /// Bounded (0..10) so a failing receiver cannot stall a test.
    /// </summary>
    public int WebhookRetries
    {
        get => _hooks.Retries;
        set => _hooks.Retries = value;
    }

    /// <summary>
    /// Every API request received (including refused and aborted ones), in arrival order; the key is the
    /// <c>X-Refund-Idempotency</c> header when one was sent.
    /// </summary>
    public IReadOnlyList<(string Method, string Path, string? IdempotencyKey)> Requests => _server.Requests;

    /// <summary>The HTTP status of every webhook delivery attempt, in order; 0 when the target did not answer.</summary>
    public IReadOnlyList<int> WebhookAnswers => _hooks.Answers;

    public static async Task<FakeRazorpay> StartAsync()
    {
        var fake = new FakeRazorpay();
        await fake._server.StartAsync(fake.AdmitAsync, app =>
        {
            app.MapPost("/v1/orders", (HttpContext context) => fake.PostAsync(context, fake.CreateOrder));
            app.MapGet("/v1/orders/{id}", (HttpContext context) => fake.GetAsync(context, fake.ReadOrder));
            app.MapGet("/v1/orders/{id}/payments", (HttpContext context) => fake.GetAsync(context, fake.ReadOrderPayments));
            app.MapGet("/v1/payments/{id}", (HttpContext context) => fake.GetAsync(context, fake.ReadPayment));
            app.MapPost("/v1/payments/{id}/refund", (HttpContext context) =>
                fake.PostAsync(context, body => fake.CreateRefund(RouteId(context), RefundKey(context.Request), body)));
            app.MapGet("/v1/refunds/{id}", (HttpContext context) => fake.GetAsync(context, fake.ReadRefund));
            app.MapGet("/v1/settlements/recon/combined", (HttpContext context) => fake.GetAsync(context, _ => fake.ReadRecon(context.Request.Query)));
            app.MapFallback((HttpContext context) => WriteAsync(context, Error(404, BadRequest, "The requested URL was not found on the server.", null)));
        });
        return fake;
    }

    /// <summary>Sends the held events, newest first, each with the usual retries.</summary>
    public Task ReleaseHeldAsync() => _hooks.ReleaseHeldAsync();

    /// <summary>
    /// The customer pays through Checkout: a captured payment is created for the whole order, the order becomes
    /// <c>paid</c>, and <c>payment.captured</c> then <c>order.paid</c> are sent.
    /// </summary>
    /// <returns>What Checkout hands the merchant's page: <c>razorpay_payment_id</c>, <c>razorpay_order_id</c>, <c>razorpay_signature</c>.</returns>
    public async Task<(string PaymentId, string OrderId, string Signature)> PayAsync(string orderId)
    {
        string paymentId;
        Hook captured;
        Hook paid;
        lock (_gate)
        {
            var order = ExistingOrder(orderId);
            if (order.Status is "paid")
            {
                throw new InvalidOperationException($"Cannot pay {orderId}: it is already paid.");
            }
            var payment = AddPayment(order, failed: false);
            order.Status = "paid";
            order.AmountPaid = order.Amount;
            paymentId = payment.Id;
            captured = Event("payment.captured", ("payment", payment.ToJson()));
            paid = Event("order.paid", ("payment", payment.ToJson()), ("order", order.ToJson()));
        }
        await DispatchAsync(captured);
        await DispatchAsync(paid);
        return (paymentId, orderId, SignCheckout(orderId, paymentId, KeySecret));
    }

    /// <summary>A payment attempt on the order fails: the order becomes <c>attempted</c> and <c>payment.failed</c> is sent.</summary>
    /// <returns>The failed payment's id.</returns>
    public async Task<string> FailPaymentAsync(string orderId)
    {
        string paymentId;
        Hook failed;
        lock (_gate)
        {
            var order = ExistingOrder(orderId);
            if (order.Status is "paid")
            {
                throw new InvalidOperationException($"Cannot fail a payment on {orderId}: it is already paid.");
            }
            var payment = AddPayment(order, failed: true);
            order.Status = "attempted";
            paymentId = payment.Id;
            failed = Event("payment.failed", ("payment", payment.ToJson()));
        }
        await DispatchAsync(failed);
        return paymentId;
    }

    /// <summary>The next refund created ends <c>failed</c> instead of <c>processed</c>.</summary>
    public void FailNextRefund()
    {
        lock (_gate)
        {
            _failNextRefund = true;
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> authenticated API requests answer <paramref name="statusCode"/> with a
    /// Razorpay error body; nothing is executed, and no refund idempotency key is remembered.
    /// </summary>
    public void FailNextRequests(int count, int statusCode = 500) => _server.FailNextRequests(count, statusCode);

    /// <summary>
    /// Razorpay's settlement run for <paramref name="day"/> (UTC): every captured payment and processed refund not
    /// settled yet is settled on that day under one new settlement id and UTR, and from then on appears in
    /// <c>GET /v1/settlements/recon/combined</c> for that day. Failed payments, and refunds still pending or
    /// failed, are left out; a refund is only processed once the connector has read it.
    /// </summary>
    public void Settle(DateOnly day)
    {
        lock (_gate)
        {
            var settlement = new Settlement(
                "setl_" + NewId(),
                RandomNumberGenerator.GetString("0123456789", UtrLength),
                day);
            foreach (var payment in _payments.Values.Where(p => p.Captured && p.Settlement is null))
            {
                payment.Settlement = settlement;
                _settled.Add(new SettledEntry(payment, null, settlement));
            }
            foreach (var refund in _refunds.Values.Where(r => r.Status is "processed" && r.Settlement is null))
            {
                refund.Settlement = settlement;
                _settled.Add(new SettledEntry(_payments[refund.PaymentId], refund, settlement));
            }
        }
    }

    /// <summary>
    /// The fake's fee rule for a payment of <paramref name="amount"/> paise: a fee of 2% rounded down, and tax of
    /// 18% of that fee rounded down. A settled payment is credited <c>amount - Fee - Tax</c>; refunds carry no fee.
    /// </summary>
    public static (long Fee, long Tax) FeeFor(long amount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        var fee = amount * 2 / 100;
        return (fee, fee * 18 / 100);
    }

    /// <summary>The order as the API would return it now, or null if there is none.</summary>
    public JsonElement? Order(string id)
    {
        lock (_gate)
        {
            return _orders.TryGetValue(id, out var order) ? ToElement(order.ToJson()) : null;
        }
    }

    /// <summary>Waits for background deliveries (<c>refund.processed</c>, <c>refund.failed</c>) to finish, retries included.</summary>
    public Task WaitForDeliveriesAsync() => _hooks.WaitForDeliveriesAsync();

    /// <summary>The <c>X-Razorpay-Signature</c> header value for <paramref name="body"/>: lowercase hex HMAC-SHA256 of the raw body.</summary>
    public static string SignWebhook(string body, string secret) => HexHmac(secret, body);

    /// <summary>The <c>razorpay_signature</c> Checkout returns: lowercase hex HMAC-SHA256 of <c>order_id|payment_id</c> under the key secret.</summary>
    public static string SignCheckout(string orderId, string paymentId, string keySecret) => HexHmac(keySecret, orderId + "|" + paymentId);

    public async ValueTask DisposeAsync()
    {
        await _hooks.DrainAsync();
        await _server.DisposeAsync();
        _hooks.Dispose();
    }

    // ---- request pipeline -------------------------------------------------------------------------

    /// <summary>Records the request, then plays the outage, authentication and injected-failure gates.</summary>
    private Task<bool> AdmitAsync(HttpContext context)
    {
        var request = context.Request;
        return _server.AdmitAsync(context, RefundKey(request),
            () => Authenticate(request.Headers.Authorization.ToString()),
            status => status >= 500
                ? Error(status, "SERVER_ERROR", "The server encountered an error. The incident has been reported to admins. (injected by FakeRazorpay)", null)
                : Error(status, BadRequest, "The request was refused (injected by FakeRazorpay).", null),
            WriteAsync);
    }

    /// <summary>Basic auth with the key id as user name and the key secret as password; anything else is one and the same 401.</summary>
    private static Reply? Authenticate(string authorization)
    {
        const string scheme = "Basic ";
        if (authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[scheme.Length..].Trim()));
                if (string.Equals(credentials, KeyId + ":" + KeySecret, StringComparison.Ordinal))
                {
                    return null;
                }
            }
            catch (FormatException)
            {
                // Not base64: refused like a wrong key.
            }
        }
        return Error(401, BadRequest, "The api key provided is invalid", null);
    }

    /// <summary>Reads the JSON body (an empty body counts as <c>{}</c>) and runs the endpoint under the gate.</summary>
    private async Task PostAsync(HttpContext context, Func<JsonObject, Reply> endpoint)
    {
        var (body, bad) = await ReadBodyAsync(context.Request);
        Reply reply;
        if (bad is not null)
        {
            reply = bad;
        }
        else
        {
            lock (_gate)
            {
                reply = endpoint(body!);
            }
        }
        await WriteAsync(context, reply);
    }

    private async Task GetAsync(HttpContext context, Func<string, (Reply Reply, Hook? Event)> endpoint)
    {
        var id = RouteId(context);
        (Reply Reply, Hook? Event) result;
        lock (_gate)
        {
            result = endpoint(id);
        }
        if (result.Event is not null)
        {
            // Not awaited: the connector may be reading this refund from inside its own webhook handling.
            _hooks.DispatchInBackground(result.Event);
        }
        await WriteAsync(context, result.Reply);
    }

    private static async Task<(JsonObject? Body, Reply? Bad)> ReadBodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
        {
            return (new JsonObject(), null);
        }
        try
        {
            return JsonNode.Parse(text) is JsonObject body
                ? (body, null)
                : (null, Invalid("The request body must be a JSON object.", null));
        }
        catch (JsonException)
        {
            return (null, Invalid("The request body is not valid JSON.", null));
        }
    }

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = "application/json";
        await response.WriteAsync(reply.Body);
    }

    private static string RouteId(HttpContext context) => context.Request.RouteValues["id"] as string ?? "";

    /// <summary>The refund idempotency key, or null when the header is absent or empty.</summary>
    private static string? RefundKey(HttpRequest request)
    {
        var key = request.Headers[RefundKeyHeader].ToString();
        return key.Length == 0 ? null : key;
    }

    // ---- endpoints (called with _gate held) --------------------------------------------------------

    /// <summary>Creates an order. No idempotency: a repeated receipt makes another order, as in Razorpay.</summary>
    private Reply CreateOrder(JsonObject body)
    {
        if (!TryCurrency(body, out var currency, out var bad)
            || !TryAmount(body, required: true, currency, out var amount, out bad)
            || !TryReceipt(body, out var receipt, out bad)
            || !TryNotes(body, out var notes, out bad))
        {
            return bad!;
        }
        if (body["partial_payment"] is { } partial && partial.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            return Invalid("The partial payment field must be true or false.", "partial_payment");
        }
        var order = new OrderState
        {
            Id = "order_" + NewId(),
            Amount = amount,
            Currency = currency,
            Receipt = receipt,
            Notes = notes,
            Created = Now(),
        };
        _orders[order.Id] = order;
        return Ok(order.ToJson());
    }

    private (Reply, Hook?) ReadOrder(string id) =>
        _orders.TryGetValue(id, out var order) ? (Ok(order.ToJson()), null) : (Missing(), null);

    /// <summary>The order's payments, newest first, as Razorpay lists collections.</summary>
    private (Reply, Hook?) ReadOrderPayments(string id)
    {
        if (!_orders.TryGetValue(id, out var order))
        {
            return (Missing(), null);
        }
        var items = new JsonArray();
        for (var i = order.Payments.Count - 1; i >= 0; i--)
        {
            items.Add(_payments[order.Payments[i]].ToJson());
        }
        return (Ok(new JsonObject
        {
            ["entity"] = "collection",
            ["count"] = items.Count,
            ["items"] = items,
        }), null);
    }

    private (Reply, Hook?) ReadPayment(string id) =>
        _payments.TryGetValue(id, out var payment) ? (Ok(payment.ToJson()), null) : (Missing(), null);

    /// <summary>
    /// Creates a pending refund. A known <c>X-Refund-Idempotency</c> value answers with the refund it created
    /// (as it is now); only refunds actually created remember their key.
    /// </summary>
    private Reply CreateRefund(string paymentId, string? key, JsonObject body)
    {
        if (key is not null && key.Length < MinimumRefundKeyLength)
        {
            return Invalid(string.Create(CultureInfo.InvariantCulture,
                $"The {RefundKeyHeader} header must be at least {MinimumRefundKeyLength} characters."), null);
        }
        if (key is not null && _refundKeys.TryGetValue(key, out var earlier))
        {
            var prior = _refunds[earlier];
            return string.Equals(prior.PaymentId, paymentId, StringComparison.Ordinal)
                ? Ok(prior.ToJson())
                : Invalid("The " + RefundKeyHeader + " value was already used for a refund on another payment.", null);
        }
        if (!_payments.TryGetValue(paymentId, out var payment))
        {
            return Missing();
        }
        if (!TryAmount(body, required: false, payment.Currency, out var requested, out var bad)
            || !TryReceipt(body, out var receipt, out bad)
            || !TryNotes(body, out var notes, out bad))
        {
            return bad!;
        }
        if (!payment.Captured)
        {
            return Invalid("The payment has not been captured", null);
        }
        var left = payment.Amount - _refunds.Values
            .Where(r => string.Equals(r.PaymentId, paymentId, StringComparison.Ordinal) && r.Status is not "failed")
            .Sum(r => r.Amount);
        if (requested == 0 && left == 0)
        {
            return Invalid("The payment has been fully refunded already", null);
        }
        var amount = requested == 0 ? left : requested;
        if (amount > left)
        {
            return Invalid("The refund amount provided is greater than amount captured", "amount");
        }
        var refund = new RefundState
        {
            Id = "rfnd_" + NewId(),
            Amount = amount,
            Currency = payment.Currency,
            PaymentId = paymentId,
            Notes = notes,
            Receipt = receipt,
            Created = Now(),
            WillFail = _failNextRefund,
        };
        _failNextRefund = false;
        _refunds[refund.Id] = refund;
        if (key is not null)
        {
            _refundKeys[key] = refund.Id;
        }
        return Ok(refund.ToJson());
    }

    /// <summary>
    /// Answers with the refund as it is, then settles a pending refund: the first fetch sees <c>pending</c>,
    /// later ones the outcome. A processed refund adds to the payment's <c>amount_refunded</c>;
    /// <c>refund.processed</c> or <c>refund.failed</c> announces it.
    /// </summary>
    private (Reply, Hook?) ReadRefund(string id)
    {
        if (!_refunds.TryGetValue(id, out var refund))
        {
            return (Missing(), null);
        }
        var reply = Ok(refund.ToJson());
        if (refund.Status is not "pending")
        {
            return (reply, null);
        }
        var payment = _payments[refund.PaymentId];
        if (refund.WillFail)
        {
            refund.Status = "failed";
        }
        else
        {
            refund.Status = "processed";
            payment.AmountRefunded += refund.Amount;
        }
        var evt = Event("refund." + refund.Status, ("refund", refund.ToJson()), ("payment", payment.ToJson()));
        return (reply, evt);
    }

    /// <summary>
    /// The combined settlement recon report: one row per payment or refund settled on the given UTC day, or in the
    /// whole month when <c>day</c> is absent, in settlement order.
    /// </summary>
    private (Reply, Hook?) ReadRecon(IQueryCollection query)
    {
        if (!TryQueryNumber(query, "year", required: true, MinYear, MaxYear, out var year))
        {
            return (Invalid("The year must be a valid year", "year"), null);
        }
        if (!TryQueryNumber(query, "month", required: true, 1, 12, out var month))
        {
            return (Invalid("The month must be a valid month (1 to 12)", "month"), null);
        }
        if (!TryQueryNumber(query, "day", required: false, 1, DateTime.DaysInMonth(year, month), out var day))
        {
            return (Invalid("The day must be a valid day of the month", "day"), null);
        }
        var items = new JsonArray();
        foreach (var entry in _settled)
        {
            var settled = entry.Settlement.Day;
            if (settled.Year == year && settled.Month == month && (day == 0 || settled.Day == day))
            {
                items.Add(ReconRow(entry));
            }
        }
        return (Ok(new JsonObject
        {
            ["entity"] = "collection",
            ["count"] = items.Count,
            ["items"] = items,
        }), null);
    }

    /// <summary>A recon row: a payment is credited net of fee and tax, a refund is debited in full without fee.</summary>
    private JsonObject ReconRow(SettledEntry entry)
    {
        var payment = entry.Payment;
        var refund = entry.Refund;
        var order = _orders[payment.OrderId];
        var (fee, tax) = refund is null ? FeeFor(payment.Amount) : (0, 0);
        var amount = refund?.Amount ?? payment.Amount;
        return new JsonObject
        {
            ["entity_id"] = refund?.Id ?? payment.Id,
            ["type"] = refund is null ? "payment" : "refund",
            ["debit"] = refund is null ? 0 : amount,
            ["credit"] = refund is null ? amount - fee - tax : 0,
            ["amount"] = amount,
            ["currency"] = payment.Currency,
            ["fee"] = fee,
            ["tax"] = tax,
            ["on_hold"] = false,
            ["settled"] = true,
            ["created_at"] = refund?.Created ?? payment.Created,
            ["settled_at"] = new DateTimeOffset(entry.Settlement.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds(),
            ["settlement_id"] = entry.Settlement.Id,
            ["posted_at"] = null,
            ["credit_type"] = "default",
            ["description"] = null,
            ["notes"] = new JsonObject(),
            ["payment_id"] = payment.Id,
            ["settlement_utr"] = entry.Settlement.Utr,
            ["order_id"] = order.Id,
            ["order_receipt"] = order.Receipt,
            ["method"] = "card",
            ["card_network"] = "Visa",
            ["card_issuer"] = "HDFC",
            ["card_type"] = "credit",
            ["dispute_id"] = null,
        };
    }

    // ---- webhooks ---------------------------------------------------------------------------------

    private Task DispatchAsync(Hook evt) => _hooks.DispatchAsync(evt);

    private static async Task<int> PostEventAsync(Uri target, Hook evt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new StringContent(evt.Body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("X-Razorpay-Signature", SignWebhook(evt.Body, WebhookSecret));
        request.Headers.TryAddWithoutValidation("X-Razorpay-Event-Id", evt.Id);
        request.Headers.TryAddWithoutValidation("User-Agent", "Razorpay-Webhook/v1");
        return await LoopbackGateway.StatusOfAsync(LoopbackGateway.Webhooks, request);
    }

    /// <summary>The event envelope; its id travels only in the <c>X-Razorpay-Event-Id</c> header, never in the body.</summary>
    private static Hook Event(string name, params (string Kind, JsonObject Entity)[] entities)
    {
        var contains = new JsonArray();
        var payload = new JsonObject();
        foreach (var (kind, entity) in entities)
        {
            contains.Add(kind);
            payload[kind] = new JsonObject { ["entity"] = entity };
        }
        var body = new JsonObject
        {
            ["entity"] = "event",
            ["account_id"] = "acc_fake",
            ["event"] = name,
            ["contains"] = contains,
            ["payload"] = payload,
            ["created_at"] = Now(),
        };
        return new Hook("evt_" + NewId(), body.ToJsonString(Wire));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private OrderState ExistingOrder(string id) =>
        _orders.TryGetValue(id, out var order) ? order : throw new InvalidOperationException($"FakeRazorpay has no order {id}.");

    private PaymentState AddPayment(OrderState order, bool failed)
    {
        var payment = new PaymentState
        {
            Id = "pay_" + NewId(),
            Amount = order.Amount,
            Currency = order.Currency,
            OrderId = order.Id,
            Created = Now(),
            Failed = failed,
        };
        _payments[payment.Id] = payment;
        order.Payments.Add(payment.Id);
        order.Attempts++;
        return payment;
    }

    /// <summary>
    /// One plain decimal query value within <paramref name="min"/>..<paramref name="max"/>; when not required,
    /// absent gives zero. Repeated, empty, signed or padded values are refused.
    /// </summary>
    private static bool TryQueryNumber(IQueryCollection query, string name, bool required, int min, int max, out int value)
    {
        value = 0;
        if (!query.TryGetValue(name, out var values))
        {
            return !required;
        }
        return values.Count == 1
            && int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out value)
            && value >= min
            && value <= max;
    }

    private static bool TryCurrency(JsonObject body, out string currency, out Reply? bad)
    {
        currency = "";
        bad = null;
        var node = body["currency"];
        if (node is null)
        {
            bad = Invalid("The currency field is required.", "currency");
            return false;
        }
        if (node.GetValueKind() is not JsonValueKind.String || node.GetValue<string>() is not { Length: 3 } code || !code.All(char.IsAsciiLetterUpper))
        {
            bad = Invalid("Currency is not supported", "currency");
            return false;
        }
        currency = code;
        return true;
    }

    /// <summary>An integer amount in minor units of at least 1.00; when not required, absent means zero (the whole remainder).</summary>
    private static bool TryAmount(JsonObject body, bool required, string currency, out long amount, out Reply? bad)
    {
        amount = 0;
        bad = null;
        var node = body["amount"];
        if (node is null)
        {
            if (required)
            {
                bad = Invalid("The amount field is required.", "amount");
            }
            return !required;
        }
        if (node is not JsonValue value || value.GetValueKind() is not JsonValueKind.Number || !value.TryGetValue(out amount))
        {
            bad = Invalid("The amount must be an integer.", "amount");
            return false;
        }
        if (amount < MinimumAmount)
        {
            bad = Invalid("The amount must be atleast " + currency + " 1.00", "amount");
            return false;
        }
        return true;
    }

    private static bool TryReceipt(JsonObject body, out string? receipt, out Reply? bad)
    {
        receipt = null;
        bad = null;
        var node = body["receipt"];
        if (node is null)
        {
            return true;
        }
        if (node.GetValueKind() is not JsonValueKind.String)
        {
            bad = Invalid("The receipt must be a string.", "receipt");
            return false;
        }
        receipt = node.GetValue<string>();
        if (receipt.Length > MaxReceiptLength)
        {
            bad = Invalid(string.Create(CultureInfo.InvariantCulture, $"The receipt may not be greater than {MaxReceiptLength} characters."), "receipt");
            return false;
        }
        return true;
    }

    /// <summary>At most 15 flat key-value pairs; an empty JSON array is accepted too, since that is how Razorpay itself writes "no notes".</summary>
    private static bool TryNotes(JsonObject body, out JsonObject notes, out Reply? bad)
    {
        notes = new JsonObject();
        bad = null;
        var node = body["notes"];
        if (node is null or JsonArray { Count: 0 })
        {
            return true;
        }
        if (node is not JsonObject given)
        {
            bad = Invalid("The notes must be an object of key-value pairs.", "notes");
            return false;
        }
        if (given.Count > MaxNotes)
        {
            bad = Invalid(string.Create(CultureInfo.InvariantCulture, $"The notes may not have more than {MaxNotes} items."), "notes");
            return false;
        }
        foreach (var (_, value) in given)
        {
            if (value is not null && value.GetValueKind() is JsonValueKind.Object or JsonValueKind.Array)
            {
                bad = Invalid("The notes values must be strings or numbers.", "notes");
                return false;
            }
            if (value?.GetValueKind() is JsonValueKind.String && value.GetValue<string>().Length > MaxNoteValueLength)
            {
                bad = Invalid(string.Create(CultureInfo.InvariantCulture, $"The notes values may not be greater than {MaxNoteValueLength} characters."), "notes");
                return false;
            }
        }
        notes = (JsonObject)given.DeepClone();
        return true;
    }

    private static Reply Ok(JsonObject body) => new(200, body.ToJsonString(Wire));

    /// <summary>Razorpay answers an unknown id with 400, not 404.</summary>
    private static Reply Missing() => Invalid("The id provided does not exist", null);

    private static Reply Invalid(string description, string? field) => Error(400, BadRequest, description, field);

    private static Reply Error(int status, string code, string description, string? field) => new(status, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = code,
            ["description"] = description,
            ["source"] = "NA",
            ["step"] = "NA",
            ["reason"] = "NA",
            ["metadata"] = new JsonObject(),
            ["field"] = field,
        },
    }.ToJsonString(Wire));

    private static JsonElement ToElement(JsonObject json) => LoopbackGateway.ToElement(json, Wire);

    private static string HexHmac(string secret, string message) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message)));

    private static string NewId() => RandomNumberGenerator.GetString(IdAlphabet, 14);

    private static long Now() => LoopbackGateway.UnixNow();

    private sealed record Reply(int Status, string Body);

    /// <summary>A webhook event: the id for <c>X-Razorpay-Event-Id</c> and the exact body that is signed and sent.</summary>
    private sealed record Hook(string Id, string Body);

    /// <summary>One <see cref="Settle"/> call: its settlement id, bank UTR and UTC day.</summary>
    private sealed record Settlement(string Id, string Utr, DateOnly Day);

    /// <summary>A settled payment, or a settled refund (with the payment it refunds).</summary>
    private sealed record SettledEntry(PaymentState Payment, RefundState? Refund, Settlement Settlement);

    private sealed class OrderState
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required long Created { get; init; }
        public required JsonObject Notes { get; init; }
        public string? Receipt { get; init; }
        public string Status { get; set; } = "created";
        public long AmountPaid { get; set; }
        public int Attempts { get; set; }
        public List<string> Payments { get; } = [];

        public JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["entity"] = "order",
            ["amount"] = Amount,
            ["amount_paid"] = AmountPaid,
            ["amount_due"] = Amount - AmountPaid,
            ["currency"] = Currency,
            ["receipt"] = Receipt,
            ["offer_id"] = null,
            ["status"] = Status,
            ["attempts"] = Attempts,
            ["notes"] = Notes.DeepClone(),
            ["created_at"] = Created,
        };
    }

    private sealed class PaymentState
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required string OrderId { get; init; }
        public required long Created { get; init; }
        public bool Failed { get; init; }
        public long AmountRefunded { get; set; }
        public Settlement? Settlement { get; set; }

        public bool Captured => !Failed;

        private string Status => Failed ? "failed" : AmountRefunded >= Amount ? "refunded" : "captured";

        private string? RefundStatus => AmountRefunded == 0 ? null : AmountRefunded >= Amount ? "full" : "partial";

        public JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["entity"] = "payment",
            ["amount"] = Amount,
            ["currency"] = Currency,
            ["status"] = Status,
            ["order_id"] = OrderId,
            ["method"] = "card",
            ["amount_refunded"] = AmountRefunded,
            ["refund_status"] = RefundStatus,
            ["captured"] = Captured,
            ["error_code"] = Failed ? BadRequest : null,
            ["error_description"] = Failed ? "Payment failed" : null,
            ["created_at"] = Created,
        };
    }

    private sealed class RefundState
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required string PaymentId { get; init; }
        public required long Created { get; init; }
        public required JsonObject Notes { get; init; }
        public string? Receipt { get; init; }
        public bool WillFail { get; init; }
        public string Status { get; set; } = "pending";
        public Settlement? Settlement { get; set; }

        public JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["entity"] = "refund",
            ["amount"] = Amount,
            ["currency"] = Currency,
            ["payment_id"] = PaymentId,
            ["notes"] = Notes.DeepClone(),
            ["receipt"] = Receipt,
            ["status"] = Status,
            ["speed_processed"] = "normal",
            ["created_at"] = Created,
        };
    }
}
