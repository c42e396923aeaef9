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
/// A local stand-in for the Cashfree Payment Gateway API (version 2023-08-01) on loopback, so the Cashfree
/// connector can be tested over real HTTP without a network or a Cashfree account. It speaks the slice of the
/// protocol the connector uses (orders with merchant-chosen ids, payments, refunds with merchant-chosen ids,
/// header authentication, <c>x-idempotency-key</c>, JSON bodies with major-unit decimal amounts, signed
/// webhooks, settlement reconciliation) and lets a test play the customer (pay, fail a payment, let an order
/// expire), Cashfree's payouts (<see cref="Settle"/>) and the network (outages, 5xx answers, duplicated or
/// reordered webhook deliveries).
/// </summary>
/// <remarks>
/// <para>
/// Amounts are decimals in major units, read from the raw JSON as <see cref="decimal"/> and always written
/// with two decimals (<c>499.00</c>), in replies and webhook bodies alike; a connector must read them from the
/// raw text, never through <see cref="double"/>.
/// </para>
/// <para>
/// Webhooks are delivered before <see cref="PayAsync"/> and <see cref="FailPaymentAsync"/> return, so a test
/// can assert on Clearflow's state straight after them. The one exception is <c>REFUND_STATUS_WEBHOOK</c>,
/// which happens while the connector is reading a refund; it is sent in the background and
/// <see cref="WaitForDeliveriesAsync"/> waits for it. Cashfree events carry no event id: a duplicate is the
/// same bytes under the same <c>x-webhook-timestamp</c> again.
/// </para>
/// <para>
/// Events always go to <see cref="WebhookTarget"/>; an order's <c>order_meta.notify_url</c> is echoed but not used.
/// </para>
/// <para>
/// <c>POST /pg/settlement/recon</c> lists only what <see cref="Settle"/> has settled: one row per successful
/// payment (net of <see cref="FeeFor"/>) and per successful refund, oldest settlement first, paged by an opaque
/// cursor. It only reads, so <c>x-idempotency-key</c> plays no part in it.
/// </para>
/// </remarks>
public sealed class FakeCashfree : IAsyncDisposable
{
    public const string ClientId = "TEST_fake_client_0001";
    public const string ClientSecret = "cfsk_ma_test_fake_secret_0001";

    /// <summary>How a webhook event reaches <see cref="WebhookTarget"/>; real Cashfree does all three from time to time.</summary>
    public enum Delivery
    {
        /// <summary>Each event is sent once (plus retries when it is not acknowledged).</summary>
        Once,

        /// <summary>Each event is sent twice, byte for byte and with the same timestamp: the receiver must deduplicate.</summary>
        Duplicate,

        /// <summary>Events are queued until <see cref="ReleaseHeldAsync"/>, which sends them newest first: the receiver must cope with stale events.</summary>
        HeldThenReversed,
    }

    private const string ApiVersion = "2023-08-01";
    private const string IdempotencyHeader = "x-idempotency-key";
    private const string RequestIdHeader = "x-request-id";
    private const string InvalidRequest = "invalid_request_error";
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Where <see cref="AdmitAsync"/> leaves a POST body it has already read.</summary>
    private const string BodyItem = "FakeCashfree.Body";

    private const decimal MinimumOrderAmount = 1.00m;
    private const decimal MinimumRefundAmount = 0.01m;
    private const int MinOrderIdLength = 3;
    private const int MaxOrderIdLength = 50;
    private const int MinRefundIdLength = 3;
    private const int MaxRefundIdLength = 40;
    private const int MaxReconLimit = 1000;

    /// <summary>What a recon cursor encodes before the last <c>event_id</c> it has handed out.</summary>
    private const string CursorPrefix = "recon:";

    /// <summary>A recon filter time with no offset, which is taken as India time.</summary>
    private const string UnzonedFormat = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF";

    /// <summary>Cashfree writes its times in Indian Standard Time.</summary>
    private static readonly TimeSpan India = new(5, 30, 0);

    /// <summary>How long an order stays payable when the request names no <c>order_expiry_time</c>.</summary>
    private static readonly TimeSpan OrderLifetime = TimeSpan.FromDays(30);

    /// <summary>Recon filter times: ISO 8601 with a UTC offset or <c>Z</c>, seconds required, fraction optional.</summary>
    private static readonly string[] ZonedFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"];

    /// <summary>Non-ASCII text is written literally; tests may match messages and notes as raw text.</summary>
    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Guards every piece of mutable state below; never held across an await.</summary>
    private readonly Lock _gate = new();

    /// <summary>The loopback app, the request log, and the outage and injected-failure gates.</summary>
    private readonly LoopbackGateway _server;

    /// <summary>Webhook delivery: habit, one at a time, retries, answers, background deliveries.</summary>
    private readonly WebhookSender<Hook> _hooks;

    /// <summary>Keyed by the merchant's <c>order_id</c>.</summary>
    private readonly Dictionary<string, OrderState> _orders = new(StringComparer.Ordinal);

    /// <summary>Keyed by the merchant's <c>refund_id</c>, which Cashfree keeps unique across the account.</summary>
    private readonly Dictionary<string, RefundState> _refunds = new(StringComparer.Ordinal);

    /// <summary><c>x-idempotency-key</c> → the request it was first used with and the reply it got.</summary>
    private readonly Dictionary<string, SavedReply> _idempotent = new(StringComparer.Ordinal);


    /// <summary>Settled payments and refunds in the order they were settled, so <c>event_id</c>s increase along it.</summary>
    private readonly List<ReconRow> _recon = [];

    /// <summary>The <c>cf_payment_id</c>s and <c>cf_refund_id</c>s already settled (all come from one number source).</summary>
    private readonly HashSet<string> _settled = new(StringComparer.Ordinal);

    /// <summary>Source of the all-digit Cashfree ids (<c>cf_order_id</c>, <c>cf_payment_id</c>, <c>cf_refund_id</c>).</summary>
    private long _lastNumber = RandomNumberGenerator.GetInt32(100_000_000, 900_000_000) * 10L;

    private bool _failNextRefund;

    private FakeCashfree()
    {
        _server = new LoopbackGateway(_gate);
        _hooks = new WebhookSender<Hook>(_gate, PostEventAsync);
    }

    /// <summary>Root of the fake API, ending in a slash so <c>new Uri(BaseAddress, "pg/...")</c> works.</summary>
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
    /// How many more times a delivery is attempted after a non-2xx answer (or no answer), 200 ms apart, with
    /// the same body and timestamp and a growing <c>x-webhook-attempt</c>. Bounded (0..10) so a failing
    /// receiver cannot stall a test.
    /// </summary>
    public int WebhookRetries
    {
        get => _hooks.Retries;
        set => _hooks.Retries = value;
    }

    /// <summary>
    /// Every API request received (including refused and aborted ones), in arrival order; the key is the
    /// <c>refund_id</c> of the body for refund creations, else the <c>x-idempotency-key</c> header when one was sent.
    /// </summary>
    public IReadOnlyList<(string Method, string Path, string? IdempotencyKey)> Requests => _server.Requests;

    /// <summary>The HTTP status of every webhook delivery attempt, in order; 0 when the target did not answer.</summary>
    public IReadOnlyList<int> WebhookAnswers => _hooks.Answers;

    public static async Task<FakeCashfree> StartAsync()
    {
        var fake = new FakeCashfree();
        await fake._server.StartAsync(fake.AdmitAsync, app =>
        {
            app.MapPost("/pg/orders", (HttpContext context) => fake.PostAsync(context, fake.CreateOrder));
            app.MapGet("/pg/orders/{order_id}", (HttpContext context) =>
                fake.GetAsync(context, () => fake.ReadOrder(RouteValue(context, "order_id"))));
            app.MapGet("/pg/orders/{order_id}/payments", (HttpContext context) =>
                fake.GetAsync(context, () => fake.ReadPayments(RouteValue(context, "order_id"))));
            app.MapPost("/pg/orders/{order_id}/refunds", (HttpContext context) =>
                fake.PostAsync(context, body => fake.CreateRefund(RouteValue(context, "order_id"), body)));
            app.MapGet("/pg/orders/{order_id}/refunds", (HttpContext context) =>
                fake.GetAsync(context, () => fake.ReadRefunds(RouteValue(context, "order_id"))));
            app.MapGet("/pg/orders/{order_id}/refunds/{refund_id}", (HttpContext context) =>
                fake.GetAsync(context, () => fake.ReadRefund(RouteValue(context, "order_id"), RouteValue(context, "refund_id"))));
            app.MapPost("/pg/settlement/recon", (HttpContext context) => fake.QueryAsync(context, fake.ReadRecon));
            app.MapFallback((HttpContext context) => WriteAsync(context, Error(404, "requested URL was not found", "request_invalid", InvalidRequest)));
        });
        return fake;
    }

    /// <summary>Sends the held events, newest first, each with the usual retries.</summary>
    public Task ReleaseHeldAsync() => _hooks.ReleaseHeldAsync();

    /// <summary>
    /// The customer pays the whole order: a <c>SUCCESS</c> payment is added, the order becomes <c>PAID</c> and
    /// <c>PAYMENT_SUCCESS_WEBHOOK</c> is sent.
    /// </summary>
    /// <returns>The payment's <c>cf_payment_id</c>.</returns>
    public async Task<string> PayAsync(string orderId)
    {
        string paymentId;
        Hook evt;
        lock (_gate)
        {
            var order = PayableOrder(orderId, "pay");
            var payment = AddPayment(order, "SUCCESS", "Transaction successful");
            order.Status = "PAID";
            paymentId = payment.Id;
            evt = PaymentEvent("PAYMENT_SUCCESS_WEBHOOK", order, payment);
        }
        await DispatchAsync(evt);
        return paymentId;
    }

    /// <summary>A payment attempt fails: a <c>FAILED</c> payment is added, the order stays <c>ACTIVE</c> and <c>PAYMENT_FAILED_WEBHOOK</c> is sent.</summary>
    /// <returns>The failed payment's <c>cf_payment_id</c>.</returns>
    public async Task<string> FailPaymentAsync(string orderId)
    {
        string paymentId;
        Hook evt;
        lock (_gate)
        {
            var order = PayableOrder(orderId, "fail a payment on");
            var payment = AddPayment(order, "FAILED", "Transaction failed (simulated by FakeCashfree)");
            paymentId = payment.Id;
            evt = PaymentEvent("PAYMENT_FAILED_WEBHOOK", order, payment);
        }
        await DispatchAsync(evt);
        return paymentId;
    }

    /// <summary>The order's expiry time passes unpaid: it becomes <c>EXPIRED</c>. Cashfree sends no webhook for this.</summary>
    public Task ExpireAsync(string orderId)
    {
        lock (_gate)
        {
            PayableOrder(orderId, "expire").Status = "EXPIRED";
        }
        return Task.CompletedTask;
    }

    /// <summary>The next refund created ends <c>FAILED</c> instead of <c>SUCCESS</c>.</summary>
    public void FailNextRefund()
    {
        lock (_gate)
        {
            _failNextRefund = true;
        }
    }

    /// <summary>
    /// Cashfree pays out: every successful payment and successful refund not settled yet is settled on
    /// <paramref name="day"/> (at 10:00 India time) under one new <c>cf_settlement_id</c> and <c>settlement_utr</c>,
    /// and from then on is a row of <c>POST /pg/settlement/recon</c>. Nothing to settle means no settlement.
    /// </summary>
    public void Settle(DateOnly day)
    {
        lock (_gate)
        {
            var due = new List<(DateTimeOffset Time, OrderState Order, PaymentState Payment, RefundState? Refund)>();
            foreach (var order in _orders.Values)
            {
                foreach (var payment in order.Payments.Where(p => p.Status is "SUCCESS" && !_settled.Contains(p.Id)))
                {
                    due.Add((payment.Time, order, payment, null));
                }
            }
            foreach (var refund in _refunds.Values.Where(r => r.Status is "SUCCESS" && !_settled.Contains(r.CfId)))
            {
                var order = _orders[refund.OrderId];
                var payment = order.Payments.First(p => string.Equals(p.Id, refund.CfPaymentId, StringComparison.Ordinal));
                due.Add((refund.Processed ?? refund.Created, order, payment, refund));
            }
            if (due.Count == 0)
            {
                return;
            }
            var settlement = new Settlement(NextNumber(), RandomNumberGenerator.GetString("0123456789", 16),
                new DateTimeOffset(day, new TimeOnly(10, 0), India));
            foreach (var (_, order, payment, refund) in due.OrderBy(d => d.Time))
            {
                _settled.Add(refund?.CfId ?? payment.Id);
                var eventId = ++_lastNumber;
                _recon.Add(new ReconRow(eventId, settlement.Date, ReconJson(eventId, settlement, order, payment, refund)));
            }
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> authenticated API requests answer <paramref name="statusCode"/> with a
    /// Cashfree error body; nothing is executed, and no idempotency key is remembered.
    /// </summary>
    public void FailNextRequests(int count, int statusCode = 500) => _server.FailNextRequests(count, statusCode);

    /// <summary>The order as <c>GET /pg/orders/{order_id}</c> would return it now, or null if there is none.</summary>
    public JsonElement? Order(string orderId)
    {
        lock (_gate)
        {
            return _orders.TryGetValue(orderId, out var order) ? ToElement(order.ToJson()) : null;
        }
    }

    /// <summary>Waits for background deliveries (<c>REFUND_STATUS_WEBHOOK</c>) to finish, retries included.</summary>
    public Task WaitForDeliveriesAsync() => _hooks.WaitForDeliveriesAsync();

    /// <summary>
    /// The <c>x-webhook-signature</c> header value: Base64 of HMAC-SHA256 under the client secret over the
    /// millisecond timestamp immediately followed by the raw body (no separator).
    /// </summary>
    public static string Sign(string timestampMs, string rawBody, string secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestampMs + rawBody)));

    /// <summary>
    /// What the fake charges on a settled payment, in minor units (paise): a 1.9% fee rounded down and 18% tax on
    /// the fee rounded down. Refunds are settled free of charge.
    /// </summary>
    public static (long Fee, long Tax) FeeFor(long amountMinor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amountMinor);
        // floor(19a / 1000) computed as 19q + floor(19r / 1000) for a = 1000q + r, so no amount can overflow.
        var fee = (amountMinor / 1000 * 19) + (amountMinor % 1000 * 19 / 1000);
        return (fee, fee * 18 / 100);
    }

    public async ValueTask DisposeAsync()
    {
        await _hooks.DrainAsync();
        await _server.DisposeAsync();
        _hooks.Dispose();
    }

    // ---- request pipeline -------------------------------------------------------------------------

    /// <summary>
    /// Reads a POST body (so a refund creation can be logged under its <c>refund_id</c>), records the request,
    /// then plays the outage, authentication, API-version and injected-failure gates.
    /// </summary>
    private async Task<bool> AdmitAsync(HttpContext context)
    {
        var request = context.Request;
        string? body = null;
        if (HttpMethods.IsPost(request.Method))
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(context.RequestAborted);
            context.Items[BodyItem] = body;
        }
        var path = request.Path.Value ?? "/";
        var key = IsRefundCreation(request.Method, path) ? RefundIdOf(body) : Header(request, IdempotencyHeader);
        return await _server.AdmitAsync(context, key,
            () => Authenticate(request),
            status => status switch
            {
                >= 500 => Error(status, "internal server error (injected by FakeCashfree)", "internal_error", "api_error"),
                429 => Error(status, "too many requests (injected by FakeCashfree)", "request_failed", "rate_limit_error"),
                _ => Error(status, "the request was refused (injected by FakeCashfree)", "request_failed", InvalidRequest),
            },
            WriteAsync);
    }

    /// <summary>Client id and secret first (one and the same 401 for anything wrong), then the API version.</summary>
    private static Reply? Authenticate(HttpRequest request)
    {
        if (!string.Equals(Header(request, "x-client-id"), ClientId, StringComparison.Ordinal)
            || !string.Equals(Header(request, "x-client-secret"), ClientSecret, StringComparison.Ordinal))
        {
            return Error(401, "authentication Failed", "request_failed", "authentication_error");
        }
        if (!string.Equals(Header(request, "x-api-version"), ApiVersion, StringComparison.Ordinal))
        {
            return Error(400, "x-api-version is invalid", "request_invalid", InvalidRequest);
        }
        return null;
    }

    /// <summary>
    /// Parses the JSON body (an empty body counts as <c>{}</c>) and runs the endpoint under the gate and under
    /// the idempotency rule: a key seen before with the same path and an equal body replays the first reply; with
    /// anything else it is refused. Only successful replies are remembered for their key.
    /// </summary>
    private async Task PostAsync(HttpContext context, Func<JsonObject, Reply> endpoint)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var key = Header(request, IdempotencyHeader);
        var (body, bad) = ParseBody(context.Items[BodyItem] as string ?? "");
        Reply reply;
        if (bad is not null)
        {
            reply = bad;
        }
        else
        {
            lock (_gate)
            {
                if (key is not null && _idempotent.TryGetValue(key, out var saved))
                {
                    reply = string.Equals(saved.Path, path, StringComparison.Ordinal) && JsonNode.DeepEquals(saved.Body, body)
                        ? saved.Reply
                        : Error(409, "x-idempotency-key was already used with a different request", "idempotency_key_reused", InvalidRequest);
                }
                else
                {
                    reply = endpoint(body!);
                    if (key is not null && reply.Status == 200)
                    {
                        _idempotent[key] = new SavedReply(path, body!, reply);
                    }
                }
            }
        }
        await WriteAsync(context, reply);
    }

    private async Task GetAsync(HttpContext context, Func<(Reply Reply, Hook? Event)> endpoint)
    {
        (Reply Reply, Hook? Event) result;
        lock (_gate)
        {
            result = endpoint();
        }
        if (result.Event is not null)
        {
            // Not awaited: the connector may be reading this refund from inside its own webhook handling.
            _hooks.DispatchInBackground(result.Event);
        }
        await WriteAsync(context, result.Reply);
    }

    /// <summary>A POST that only reads: the JSON body is parsed and the endpoint runs under the gate, with no idempotency rule.</summary>
    private async Task QueryAsync(HttpContext context, Func<JsonObject, Reply> endpoint)
    {
        var (body, bad) = ParseBody(context.Items[BodyItem] as string ?? "");
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

    private static (JsonObject? Body, Reply? Bad) ParseBody(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (new JsonObject(), null);
        }
        try
        {
            return JsonNode.Parse(text) is JsonObject body
                ? (body, null)
                : (null, Error(400, "request body must be a JSON object", "request_invalid", InvalidRequest));
        }
        catch (JsonException)
        {
            return (null, Error(400, "request body is not valid JSON", "request_invalid", InvalidRequest));
        }
    }

    /// <summary>Writes the reply, echoing <c>x-request-id</c> as Cashfree does.</summary>
    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = "application/json";
        if (Header(context.Request, RequestIdHeader) is { } requestId)
        {
            response.Headers[RequestIdHeader] = requestId;
        }
        await response.WriteAsync(reply.Body);
    }

    private static string RouteValue(HttpContext context, string name) => context.Request.RouteValues[name] as string ?? "";

    /// <summary>The header's value, or null when it is absent or empty.</summary>
    private static string? Header(HttpRequest request, string name)
    {
        var value = request.Headers[name].ToString();
        return value.Length == 0 ? null : value;
    }

    private static bool IsRefundCreation(string method, string path) =>
        HttpMethods.IsPost(method) && path.Trim('/').Split('/') is ["pg", "orders", _, "refunds"];

    /// <summary>The body's <c>refund_id</c> when it is a JSON object with a string there; null otherwise.</summary>
    private static string? RefundIdOf(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(body) is JsonObject json && json["refund_id"] is JsonValue id && id.GetValueKind() is JsonValueKind.String
                ? id.GetValue<string>()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---- endpoints (called with _gate held) --------------------------------------------------------

    /// <summary>
    /// Creates an <c>ACTIVE</c> order under the merchant's <c>order_id</c> (one is made up when absent, as
    /// Cashfree does). An <c>order_id</c> already in use is refused with 409.
    /// </summary>
    private Reply CreateOrder(JsonObject body)
    {
        if (!TryMerchantId(body, "order_id", MinOrderIdLength, MaxOrderIdLength, lettersDigitsOnly: true, required: false, out var orderId, out var bad)
            || !TryMoney(body, "order_amount", MinimumOrderAmount, out var amount, out bad)
            || !TryCurrency(body, out var currency, out bad)
            || !TryCustomer(body, out var customer, out bad)
            || !TryMeta(body, out var meta, out bad)
            || !TryText(body, "", "order_note", required: false, out var note, out bad)
            || !TryTags(body, out var tags, out bad)
            || !TryExpiry(body, out var expiry, out bad))
        {
            return bad!;
        }
        if (orderId is not null && _orders.ContainsKey(orderId))
        {
            return Error(409, "order with same order id already exists", "order_already_exists", InvalidRequest);
        }
        var cfOrderId = NextNumber();
        orderId ??= "order_" + cfOrderId;
        var now = DateTimeOffset.UtcNow;
        var order = new OrderState
        {
            Id = orderId,
            CfId = cfOrderId,
            Amount = amount,
            Currency = currency,
            Customer = customer,
            Meta = meta,
            Note = note,
            Tags = tags,
            SessionId = "session_" + RandomNumberGenerator.GetString(IdAlphabet, 48),
            Created = now,
            Expiry = expiry ?? now + OrderLifetime,
        };
        _orders[orderId] = order;
        return Ok(order.ToJson());
    }

    private (Reply, Hook?) ReadOrder(string orderId) =>
        _orders.TryGetValue(orderId, out var order) ? (Ok(order.ToJson()), null) : (OrderMissing(), null);

    /// <summary>A bare JSON array of the order's payments, oldest first.</summary>
    private (Reply, Hook?) ReadPayments(string orderId)
    {
        if (!_orders.TryGetValue(orderId, out var order))
        {
            return (OrderMissing(), null);
        }
        var payments = new JsonArray();
        foreach (var payment in order.Payments)
        {
            payments.Add(payment.ToJson());
        }
        return (Ok(payments), null);
    }

    /// <summary>
    /// Creates a <c>PENDING</c> refund of the order's successful payment. A <c>refund_id</c> already used on
    /// this order answers with that refund as it is now, before any amount check; on another order it is refused.
    /// </summary>
    private Reply CreateRefund(string orderId, JsonObject body)
    {
        if (!TryMerchantId(body, "refund_id", MinRefundIdLength, MaxRefundIdLength, lettersDigitsOnly: false, required: true, out var refundId, out var bad)
            || !TryMoney(body, "refund_amount", MinimumRefundAmount, out var amount, out bad)
            || !TryText(body, "", "refund_note", required: false, out var note, out bad))
        {
            return bad!;
        }
        if (!_orders.TryGetValue(orderId, out var order))
        {
            return OrderMissing();
        }
        if (_refunds.TryGetValue(refundId!, out var earlier))
        {
            return string.Equals(earlier.OrderId, orderId, StringComparison.Ordinal)
                ? Ok(earlier.ToJson())
                : Error(409, "refund with same refund id already exists", "refund_already_exists", InvalidRequest);
        }
        if (order.Status is not "PAID")
        {
            return Error(400, "order is not paid, refund cannot be initiated", "order_not_paid", InvalidRequest);
        }
        var payment = order.Payments.Last(p => p.Status is "SUCCESS");
        var left = payment.Amount - _refunds.Values
            .Where(r => string.Equals(r.OrderId, orderId, StringComparison.Ordinal) && r.Status is not "FAILED")
            .Sum(r => r.Amount);
        if (amount > left)
        {
            return Error(400, "refund_amount : cannot be more than the amount left to refund (" + Decimals(left) + ")",
                "refund_amount_invalid", InvalidRequest);
        }
        var refund = new RefundState
        {
            Id = refundId!,
            CfId = NextNumber(),
            CfPaymentId = payment.Id,
            OrderId = orderId,
            Amount = amount,
            Currency = order.Currency,
            Note = note,
            Created = DateTimeOffset.UtcNow,
            WillFail = _failNextRefund,
        };
        _failNextRefund = false;
        _refunds[refund.Id] = refund;
        return Ok(refund.ToJson());
    }

    /// <summary>A bare JSON array of the order's refunds as they are now, oldest first; listing settles nothing.</summary>
    private (Reply, Hook?) ReadRefunds(string orderId)
    {
        if (!_orders.ContainsKey(orderId))
        {
            return (OrderMissing(), null);
        }
        var refunds = new JsonArray();
        foreach (var refund in _refunds.Values.Where(r => string.Equals(r.OrderId, orderId, StringComparison.Ordinal)).OrderBy(r => r.Created))
        {
            refunds.Add(refund.ToJson());
        }
        return (Ok(refunds), null);
    }

    /// <summary>
    /// Answers with the refund as it is, then settles a pending one: the first fetch sees <c>PENDING</c>, later
    /// ones <c>SUCCESS</c> (or <c>FAILED</c> after <see cref="FailNextRefund"/>), and <c>REFUND_STATUS_WEBHOOK</c>
    /// announces it.
    /// </summary>
    private (Reply, Hook?) ReadRefund(string orderId, string refundId)
    {
        if (!_orders.ContainsKey(orderId))
        {
            return (OrderMissing(), null);
        }
        if (!_refunds.TryGetValue(refundId, out var refund) || !string.Equals(refund.OrderId, orderId, StringComparison.Ordinal))
        {
            return (Error(404, "refund not found", "refund_not_found", InvalidRequest), null);
        }
        var reply = Ok(refund.ToJson());
        if (refund.Status is not "PENDING")
        {
            return (reply, null);
        }
        refund.Status = refund.WillFail ? "FAILED" : "SUCCESS";
        refund.Processed = DateTimeOffset.UtcNow;
        var evt = Event("REFUND_STATUS_WEBHOOK", new JsonObject { ["refund"] = refund.ToJson() });
        return (reply, evt);
    }

    /// <summary>
    /// Settled rows whose <c>settlement_date</c> lies within <c>filters.start_date</c>..<c>filters.end_date</c>
    /// (both included), at most <c>pagination.limit</c> of them after <c>pagination.cursor</c>; the reply's
    /// <c>cursor</c> is null when nothing is left.
    /// </summary>
    private Reply ReadRecon(JsonObject body)
    {
        if (!TryPagination(body, out var limit, out var after, out var bad) || !TryPeriod(body, out var start, out var end, out bad))
        {
            return bad!;
        }
        var rows = _recon
            .Where(r => r.EventId > after && r.SettlementDate >= start && r.SettlementDate <= end)
            .Take(limit + 1)
            .ToList();
        var data = new JsonArray();
        foreach (var row in rows.Take(limit))
        {
            data.Add(row.Json.DeepClone());
        }
        return Ok(new JsonObject
        {
            ["cursor"] = rows.Count > limit ? Cursor(rows[limit - 1].EventId) : null,
            ["limit"] = limit,
            ["data"] = data,
        });
    }

    // ---- webhooks ---------------------------------------------------------------------------------

    private Task DispatchAsync(Hook evt) => _hooks.DispatchAsync(evt);

    private static async Task<int> PostEventAsync(Uri target, Hook evt, int attempt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new StringContent(evt.Body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("x-webhook-signature", Sign(evt.Timestamp, evt.Body, ClientSecret));
        request.Headers.TryAddWithoutValidation("x-webhook-timestamp", evt.Timestamp);
        request.Headers.TryAddWithoutValidation("x-webhook-version", ApiVersion);
        request.Headers.TryAddWithoutValidation("x-webhook-attempt", attempt.ToString(CultureInfo.InvariantCulture));
        return await LoopbackGateway.StatusOfAsync(LoopbackGateway.Webhooks, request);
    }

    /// <summary>A payment event: the order, the payment and the customer as Cashfree nests them under <c>data</c>.</summary>
    private static Hook PaymentEvent(string type, OrderState order, PaymentState payment)
    {
        var data = new JsonObject
        {
            ["order"] = new JsonObject
            {
                ["order_id"] = order.Id,
                ["order_amount"] = Money(order.Amount),
                ["order_currency"] = order.Currency,
                ["order_tags"] = order.Tags?.DeepClone(),
            },
            ["payment"] = new JsonObject
            {
                ["cf_payment_id"] = payment.Id,
                ["payment_status"] = payment.Status,
                ["payment_amount"] = Money(payment.Amount),
                ["payment_currency"] = payment.Currency,
                ["payment_message"] = payment.Message,
                ["payment_time"] = Iso(payment.Time),
                ["bank_reference"] = payment.BankReference,
                ["auth_id"] = null,
                ["payment_method"] = PaymentState.Method(),
                ["payment_group"] = "upi",
            },
            ["customer_details"] = order.Customer.DeepClone(),
        };
        if (payment.ErrorDetails() is { } error)
        {
            data["error_details"] = error;
        }
        return Event(type, data);
    }

    /// <summary>The envelope (<c>data</c>, <c>event_time</c>, <c>type</c>); its exact bytes and millisecond timestamp are fixed here, once.</summary>
    private static Hook Event(string type, JsonObject data)
    {
        var now = DateTimeOffset.UtcNow;
        var body = new JsonObject
        {
            ["data"] = data,
            ["event_time"] = Iso(now),
            ["type"] = type,
        };
        return new Hook(now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), body.ToJsonString(Wire));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /// <summary>An existing order that can still be paid; anything else is a mistake in the test.</summary>
    private OrderState PayableOrder(string orderId, string action)
    {
        if (!_orders.TryGetValue(orderId, out var order))
        {
            throw new InvalidOperationException($"FakeCashfree has no order {orderId}.");
        }
        if (order.Status is not "ACTIVE")
        {
            throw new InvalidOperationException($"Cannot {action} {orderId}: it is {order.Status}.");
        }
        return order;
    }

    private PaymentState AddPayment(OrderState order, string status, string message)
    {
        var payment = new PaymentState
        {
            Id = NextNumber(),
            OrderId = order.Id,
            Amount = order.Amount,
            Currency = order.Currency,
            Status = status,
            Message = message,
            BankReference = status is "SUCCESS" ? RandomNumberGenerator.GetString("0123456789", 12) : null,
            Time = DateTimeOffset.UtcNow,
        };
        order.Payments.Add(payment);
        return payment;
    }

    private string NextNumber() => (++_lastNumber).ToString(CultureInfo.InvariantCulture);

    /// <summary>One recon row: a payment (credited net of <see cref="FeeFor"/>) or, when <paramref name="refund"/> is given, a refund of it (debited in full).</summary>
    private static JsonObject ReconJson(long eventId, Settlement settlement, OrderState order, PaymentState payment, RefundState? refund)
    {
        var (fee, tax) = refund is null ? FeeFor(Minor(payment.Amount)) : (0L, 0L);
        var amount = refund?.Amount ?? payment.Amount;
        // The documented shape: event, settlement, order and payment details in their own objects.
        return new JsonObject
        {
            ["event_details"] = new JsonObject
            {
                ["event_id"] = eventId.ToString(CultureInfo.InvariantCulture),
                ["event_type"] = refund is null ? "PAYMENT" : "REFUND",
                ["event_amount"] = Money(amount),
                ["event_settlement_amount"] = Money(amount - Major(fee) - Major(tax)),
                ["event_time"] = Iso(refund is null ? payment.Time : refund.Processed ?? refund.Created),
                ["event_currency"] = payment.Currency,
                ["event_status"] = "SUCCESS",
                ["sale_type"] = refund is null ? "CREDIT" : "DEBIT",
            },
            ["settlement_details"] = new JsonObject
            {
                ["cf_settlement_id"] = settlement.CfId,
                ["utr"] = settlement.Utr,
                ["settlement_date"] = Iso(settlement.Date),
            },
            ["order_details"] = new JsonObject
            {
                ["order_id"] = order.Id,
                ["order_amount"] = Money(order.Amount),
            },
            ["payment_details"] = new JsonObject
            {
                ["cf_payment_id"] = payment.Id,
                ["payment_amount"] = Money(payment.Amount),
                ["payment_utr"] = payment.BankReference,
                ["payment_time"] = Iso(payment.Time),
                ["payment_service_charge"] = Money(Major(fee)),
                ["payment_service_tax"] = Money(Major(tax)),
            },
        };
    }

    /// <summary><c>pagination</c>: a <c>limit</c> of 1..1000 and a <c>cursor</c> from an earlier reply (null, absent or blank for the first page).</summary>
    private static bool TryPagination(JsonObject body, out int limit, out long after, out Reply? bad)
    {
        limit = 0;
        after = 0;
        bad = null;
        if (body["pagination"] is not JsonObject pagination)
        {
            bad = ReconInvalid("pagination : should be an object with limit and cursor");
            return false;
        }
        if (pagination["limit"] is not JsonValue value || value.GetValueKind() is not JsonValueKind.Number
            || !value.TryGetValue(out limit) || limit is < 1 or > MaxReconLimit)
        {
            bad = ReconInvalid(string.Create(CultureInfo.InvariantCulture, $"pagination.limit : should be a whole number between 1 and {MaxReconLimit}"));
            return false;
        }
        var cursor = pagination["cursor"];
        if (cursor is null
            || (cursor.GetValueKind() is JsonValueKind.String && string.IsNullOrWhiteSpace(cursor.GetValue<string>())))
        {
            return true;
        }
        if (cursor.GetValueKind() is not JsonValueKind.String || !TryCursor(cursor.GetValue<string>(), out after))
        {
            bad = ReconInvalid("pagination.cursor : is invalid");
            return false;
        }
        return true;
    }

    /// <summary><c>filters</c>: <c>start_date</c> and <c>end_date</c>, ISO 8601 date-times with the end not before the start.</summary>
    private static bool TryPeriod(JsonObject body, out DateTimeOffset start, out DateTimeOffset end, out Reply? bad)
    {
        start = default;
        end = default;
        bad = null;
        if (body["filters"] is not JsonObject filters)
        {
            bad = ReconInvalid("filters : should be an object with start_date and end_date");
            return false;
        }
        if (!TryFilterTime(filters, "start_date", out start, out bad) || !TryFilterTime(filters, "end_date", out end, out bad))
        {
            return false;
        }
        if (end < start)
        {
            bad = ReconInvalid("filters.end_date : should not be before filters.start_date");
            return false;
        }
        return true;
    }

    private static bool TryFilterTime(JsonObject filters, string field, out DateTimeOffset time, out Reply? bad)
    {
        bad = null;
        if (filters[field] is JsonValue value && value.GetValueKind() is JsonValueKind.String && TryIso(value.GetValue<string>(), out time))
        {
            return true;
        }
        time = default;
        bad = ReconInvalid("filters." + field + " : should be an ISO 8601 date-time");
        return false;
    }

    /// <summary>An ISO 8601 date-time with <c>Z</c> or an offset; with neither it is India time, Cashfree's own.</summary>
    private static bool TryIso(string text, out DateTimeOffset time)
    {
        if (DateTimeOffset.TryParseExact(text, ZonedFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
        {
            return true;
        }
        if (DateTime.TryParseExact(text, UnzonedFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            time = new DateTimeOffset(local, India);
            return true;
        }
        return false;
    }

    private static string Cursor(long lastEventId) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(CursorPrefix + lastEventId.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The last <c>event_id</c> a cursor from <see cref="Cursor"/> handed out; false for anything else.</summary>
    private static bool TryCursor(string text, out long lastEventId)
    {
        lastEventId = 0;
        var bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, bytes, out var written))
        {
            return false;
        }
        var plain = Encoding.UTF8.GetString(bytes, 0, written);
        return plain.StartsWith(CursorPrefix, StringComparison.Ordinal)
            && long.TryParse(plain.AsSpan(CursorPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out lastEventId);
    }

    /// <summary>A major-unit amount (at most two decimals) in minor units.</summary>
    private static long Minor(decimal amount) => decimal.ToInt64(amount * 100);

    private static decimal Major(long minor) => minor / 100m;

    /// <summary>
    /// A merchant-chosen id: a string of the given length; for order ids only letters, digits, <c>-</c> and <c>_</c>.
    /// When not required, absent means null.
    /// </summary>
    private static bool TryMerchantId(JsonObject body, string field, int min, int max, bool lettersDigitsOnly, bool required,
        out string? id, out Reply? bad)
    {
        if (!TryText(body, "", field, required, out id, out bad))
        {
            return false;
        }
        if (id is null)
        {
            return true;
        }
        if (id.Length < min || id.Length > max)
        {
            bad = Error(400, string.Create(CultureInfo.InvariantCulture, $"{field} : should be between {min} and {max} characters"),
                field + "_invalid", InvalidRequest);
            return false;
        }
        if (lettersDigitsOnly && !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            bad = Error(400, field + " : should contain only letters, digits, - and _", field + "_invalid", InvalidRequest);
            return false;
        }
        return true;
    }

    /// <summary>
    /// A decimal amount in major units, read from the raw JSON number (never through <see cref="double"/>), of at
    /// least <paramref name="minimum"/> and with at most two decimals.
    /// </summary>
    private static bool TryMoney(JsonObject body, string field, decimal minimum, out decimal amount, out Reply? bad)
    {
        amount = 0;
        bad = null;
        var node = body[field];
        if (node is null)
        {
            bad = MissingField(field);
            return false;
        }
        if (node is not JsonValue value || value.GetValueKind() is not JsonValueKind.Number || !value.TryGetValue(out amount))
        {
            bad = InvalidField(field, "should be a number");
            return false;
        }
        if (amount < minimum)
        {
            bad = InvalidField(field, "should be at least " + Decimals(minimum));
            return false;
        }
        if (decimal.Round(amount, 2) != amount)
        {
            bad = InvalidField(field, "should have at most 2 decimal places");
            return false;
        }
        amount = decimal.Round(amount, 2);
        return true;
    }

    private static bool TryCurrency(JsonObject body, out string currency, out Reply? bad)
    {
        currency = "";
        if (!TryText(body, "", "order_currency", required: true, out var code, out bad))
        {
            return false;
        }
        if (code is not { Length: 3 } || !code.All(char.IsAsciiLetterUpper))
        {
            bad = InvalidField("order_currency", "should be a 3 letter ISO 4217 code");
            return false;
        }
        currency = code;
        return true;
    }

    /// <summary><c>customer_details</c> with the required <c>customer_id</c> and <c>customer_phone</c>, echoed in Cashfree's shape.</summary>
    private static bool TryCustomer(JsonObject body, out JsonObject customer, out Reply? bad)
    {
        customer = new JsonObject();
        const string prefix = "customer_details.";
        if (!TryObject(body, "customer_details", required: true, out var given, out bad)
            || !TryText(given!, prefix, "customer_id", required: true, out var id, out bad)
            || !TryText(given!, prefix, "customer_phone", required: true, out var phone, out bad)
            || !TryText(given!, prefix, "customer_email", required: false, out var email, out bad)
            || !TryText(given!, prefix, "customer_name", required: false, out var name, out bad))
        {
            return false;
        }
        customer = new JsonObject
        {
            ["customer_id"] = id,
            ["customer_name"] = name,
            ["customer_email"] = email,
            ["customer_phone"] = phone,
        };
        return true;
    }

    private static bool TryMeta(JsonObject body, out JsonObject meta, out Reply? bad)
    {
        meta = new JsonObject();
        const string prefix = "order_meta.";
        if (!TryObject(body, "order_meta", required: false, out var given, out bad))
        {
            return false;
        }
        given ??= new JsonObject();
        if (!TryText(given, prefix, "return_url", required: false, out var returnUrl, out bad)
            || !TryText(given, prefix, "notify_url", required: false, out var notifyUrl, out bad)
            || !TryText(given, prefix, "payment_methods", required: false, out var methods, out bad))
        {
            return false;
        }
        meta = new JsonObject
        {
            ["return_url"] = returnUrl,
            ["notify_url"] = notifyUrl,
            ["payment_methods"] = methods,
        };
        return true;
    }

    /// <summary>Optional flat string-to-string <c>order_tags</c>.</summary>
    private static bool TryTags(JsonObject body, out JsonObject? tags, out Reply? bad)
    {
        tags = null;
        if (!TryObject(body, "order_tags", required: false, out var given, out bad))
        {
            return false;
        }
        if (given is null)
        {
            return true;
        }
        if (given.Any(pair => pair.Value?.GetValueKind() is not JsonValueKind.String))
        {
            bad = InvalidField("order_tags", "values should be strings");
            return false;
        }
        tags = (JsonObject)given.DeepClone();
        return true;
    }

    /// <summary>An optional ISO 8601 <c>order_expiry_time</c>, which must lie in the future.</summary>
    private static bool TryExpiry(JsonObject body, out DateTimeOffset? expiry, out Reply? bad)
    {
        expiry = null;
        if (!TryText(body, "", "order_expiry_time", required: false, out var text, out bad))
        {
            return false;
        }
        if (text is null)
        {
            return true;
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) || parsed <= DateTimeOffset.UtcNow)
        {
            bad = InvalidField("order_expiry_time", "should be a future time in ISO 8601 format");
            return false;
        }
        expiry = parsed;
        return true;
    }

    private static bool TryObject(JsonObject body, string field, bool required, out JsonObject? value, out Reply? bad)
    {
        value = null;
        bad = null;
        var node = body[field];
        if (node is null)
        {
            if (required)
            {
                bad = MissingField(field);
            }
            return !required;
        }
        if (node is not JsonObject given)
        {
            bad = InvalidField(field, "should be an object");
            return false;
        }
        value = given;
        return true;
    }

    /// <summary>A string field; JSON null, absence and blank text all count as missing.</summary>
    private static bool TryText(JsonObject body, string prefix, string field, bool required, out string? text, out Reply? bad)
    {
        text = null;
        bad = null;
        var node = body[field];
        if (node is not null && node.GetValueKind() is not JsonValueKind.String)
        {
            bad = InvalidField(prefix + field, "should be a string");
            return false;
        }
        var given = node?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(given))
        {
            if (required)
            {
                bad = MissingField(prefix + field);
            }
            return !required;
        }
        text = given;
        return true;
    }

    /// <summary>A JSON number token with exactly two decimals (<c>499.00</c>), written as such rather than through a binary float.</summary>
    private static JsonNode Money(decimal amount) => JsonNode.Parse(Decimals(amount))!;

    private static string Decimals(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset time) =>
        time.ToOffset(India).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static Reply Ok(JsonNode body) => new(200, body.ToJsonString(Wire));

    private static Reply OrderMissing() => Error(404, "order not found", "order_not_found", InvalidRequest);

    /// <summary>The recon endpoint answers every bad request with one and the same code.</summary>
    private static Reply ReconInvalid(string message) => Error(400, message, "request_invalid", InvalidRequest);

    private static Reply MissingField(string field) => Error(400, field + " : is missing in the request", field + "_missing", InvalidRequest);

    private static Reply InvalidField(string field, string why) => Error(400, field + " : " + why, field + "_invalid", InvalidRequest);

    private static Reply Error(int status, string message, string code, string type) => new(status, new JsonObject
    {
        ["message"] = message,
        ["code"] = code,
        ["type"] = type,
    }.ToJsonString(Wire));

    private static JsonElement ToElement(JsonObject json) => LoopbackGateway.ToElement(json, Wire);

    private sealed record Reply(int Status, string Body);

    private sealed record SavedReply(string Path, JsonObject Body, Reply Reply);

    /// <summary>A webhook event: the millisecond timestamp it is signed under and the exact body that is signed and sent.</summary>
    private sealed record Hook(string Timestamp, string Body);

    /// <summary>One payout: its ids and the moment it is dated.</summary>
    private sealed record Settlement(string CfId, string Utr, DateTimeOffset Date);

    /// <summary>A recon row as it is listed, with what the endpoint filters and pages it by.</summary>
    private sealed record ReconRow(long EventId, DateTimeOffset SettlementDate, JsonObject Json);

    private sealed class OrderState
    {
        public required string Id { get; init; }
        public required string CfId { get; init; }
        public required decimal Amount { get; init; }
        public required string Currency { get; init; }
        public required JsonObject Customer { get; init; }
        public required JsonObject Meta { get; init; }
        public required string SessionId { get; init; }
        public required DateTimeOffset Created { get; init; }
        public required DateTimeOffset Expiry { get; init; }
        public string? Note { get; init; }
        public JsonObject? Tags { get; init; }
        public string Status { get; set; } = "ACTIVE";
        public List<PaymentState> Payments { get; } = [];

        public JsonObject ToJson() => new()
        {
            ["cf_order_id"] = CfId,
            ["order_id"] = Id,
            ["entity"] = "order",
            ["order_currency"] = Currency,
            ["order_amount"] = Money(Amount),
            ["order_status"] = Status,
            ["payment_session_id"] = SessionId,
            ["order_expiry_time"] = Iso(Expiry),
            ["order_note"] = Note,
            ["created_at"] = Iso(Created),
            ["order_meta"] = Meta.DeepClone(),
            ["customer_details"] = Customer.DeepClone(),
            ["order_tags"] = Tags?.DeepClone(),
            ["order_splits"] = new JsonArray(),
        };
    }

    private sealed class PaymentState
    {
        public required string Id { get; init; }
        public required string OrderId { get; init; }
        public required decimal Amount { get; init; }
        public required string Currency { get; init; }
        public required string Status { get; init; }
        public required string Message { get; init; }
        public required DateTimeOffset Time { get; init; }
        public string? BankReference { get; init; }

        public static JsonObject Method() => new()
        {
            ["upi"] = new JsonObject { ["channel"] = "collect", ["upi_id"] = "customer@fakeupi" },
        };

        public JsonObject? ErrorDetails() => Status is "SUCCESS"
            ? null
            : new JsonObject
            {
                ["error_code"] = "TRANSACTION_DECLINED",
                ["error_description"] = "transaction declined by the bank (simulated by FakeCashfree)",
                ["error_reason"] = "bank_declined",
                ["error_source"] = "bank",
            };

        public JsonObject ToJson() => new()
        {
            ["cf_payment_id"] = Id,
            ["order_id"] = OrderId,
            ["entity"] = "payment",
            ["is_captured"] = Status is "SUCCESS",
            ["payment_amount"] = Money(Amount),
            ["payment_currency"] = Currency,
            ["payment_status"] = Status,
            ["payment_message"] = Message,
            ["payment_time"] = Iso(Time),
            ["payment_completion_time"] = Iso(Time),
            ["bank_reference"] = BankReference,
            ["payment_group"] = "upi",
            ["payment_method"] = Method(),
            ["error_details"] = ErrorDetails(),
        };
    }

    private sealed class RefundState
    {
        public required string Id { get; init; }
        public required string CfId { get; init; }
        public required string CfPaymentId { get; init; }
        public required string OrderId { get; init; }
        public required decimal Amount { get; init; }
        public required string Currency { get; init; }
        public required DateTimeOffset Created { get; init; }
        public string? Note { get; init; }
        public bool WillFail { get; init; }
        public string Status { get; set; } = "PENDING";
        public DateTimeOffset? Processed { get; set; }

        private string StatusDescription => Status switch
        {
            "PENDING" => "Refund is being processed",
            "FAILED" => "Refund failed at the bank (simulated by FakeCashfree)",
            _ => "Refund processed successfully",
        };

        public JsonObject ToJson() => new()
        {
            ["cf_payment_id"] = CfPaymentId,
            ["cf_refund_id"] = CfId,
            ["refund_id"] = Id,
            ["order_id"] = OrderId,
            ["entity"] = "refund",
            ["refund_amount"] = Money(Amount),
            ["refund_currency"] = Currency,
            ["refund_status"] = Status,
            ["refund_note"] = Note,
            ["status_description"] = StatusDescription,
            ["refund_arn"] = Status is "SUCCESS" ? "ARN" + CfId : null,
            ["refund_charge"] = Money(0m),
            ["refund_type"] = "MERCHANT_INITIATED",
            ["refund_mode"] = "STANDARD",
            ["refund_splits"] = new JsonArray(),
            ["created_at"] = Iso(Created),
            ["processed_at"] = Processed is { } processed ? Iso(processed) : null,
        };
    }
}
