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
/// A local stand-in for the Stripe API on loopback, so the Stripe connector can be tested over real HTTP
/// without a network or a Stripe account. It speaks the slice of the protocol the connector uses
/// (payment intents, refunds, balance transactions with fees and net, bearer auth, form-encoded requests,
/// idempotency keys, signed webhooks) and lets a test play the customer (pay, decline, cancel) and the
/// network (outages, 5xx answers, duplicated or reordered webhook deliveries).
/// </summary>
/// <remarks>
/// Webhooks are delivered before <see cref="PayAsync"/>, <see cref="DeclineAsync"/> and
/// <see cref="CancelAsync"/> return, so a test can assert on Clearflow's state straight after them.
/// The one exception is <c>refund.updated</c>, which happens while the connector is reading a refund;
/// it is sent in the background and <see cref="WaitForDeliveriesAsync"/> waits for it.
/// </remarks>
public sealed class FakeStripe : IAsyncDisposable
{
    public const string SecretKey = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc";
    public const string PublishableKey = "pk_test_fake_TYooMQauvdEDq54NiTphI7jx";
    public const string WebhookSecret = "whsec_fake_5f1d2c3b4a5968778695a4b3c2d1e0f1";

    /// <summary>How a webhook event reaches <see cref="WebhookTarget"/>; real Stripe does all three from time to time.</summary>
    public enum Delivery
    {
        /// <summary>Each event is sent once (plus retries when it is not acknowledged).</summary>
        Once,

        /// <summary>Each event is sent twice with the same event id: the receiver must deduplicate.</summary>
        Duplicate,

        /// <summary>Events are queued until <see cref="ReleaseHeldAsync"/>, which sends them newest first: the receiver must cope with stale events.</summary>
        HeldThenReversed,
    }

    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /// <summary>Stripe writes apostrophes and non-ASCII text literally; tests may match messages as raw text.</summary>
    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>How long after a balance transaction is created its funds become available (a fixed rolling schedule).</summary>
    private static readonly TimeSpan AvailableAfter = TimeSpan.FromDays(2);

    private const int DefaultListLimit = 10;
    private const int MaxListLimit = 100;

    /// <summary>Guards every piece of mutable state below; never held across an await.</summary>
    private readonly Lock _gate = new();

    /// <summary>The loopback app, the request log, and the outage and injected-failure gates.</summary>
    private readonly LoopbackGateway _server;

    /// <summary>Webhook delivery: habit, one at a time, retries, answers, background deliveries.</summary>
    private readonly WebhookSender<string> _hooks;

    private readonly Dictionary<string, IntentState> _intents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RefundState> _refunds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SavedReply> _idempotent = new(StringComparer.Ordinal);
    private readonly List<BalanceEntry> _balance = [];
    private bool _failNextRefund;

    private FakeStripe()
    {
        _server = new LoopbackGateway(_gate);
        _hooks = new WebhookSender<string>(_gate, (target, evt, _) => PostEventAsync(target, evt));
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

    /// <summary>Every API request received (including refused and aborted ones), in arrival order.</summary>
    public IReadOnlyList<(string Method, string Path, string? IdempotencyKey)> Requests => _server.Requests;

    /// <summary>The HTTP status of every webhook delivery attempt, in order; 0 when the target did not answer.</summary>
    public IReadOnlyList<int> WebhookAnswers => _hooks.Answers;

    public static async Task<FakeStripe> StartAsync()
    {
        var fake = new FakeStripe();
        await fake._server.StartAsync(fake.AdmitAsync, app =>
        {
            app.MapPost("/v1/payment_intents", (HttpContext context) => fake.PostAsync(context, fake.CreateIntent));
            app.MapGet("/v1/payment_intents/{id}", (HttpContext context) => fake.GetAsync(context, fake.ReadIntent));
            app.MapPost("/v1/refunds", (HttpContext context) => fake.PostAsync(context, fake.CreateRefund));
            app.MapGet("/v1/refunds/{id}", (HttpContext context) => fake.GetAsync(context, fake.ReadRefund));
            app.MapGet("/v1/balance_transactions", (HttpContext context) => fake.GetAsync(context, _ => fake.ListBalance(context.Request.Query)));
            app.MapFallback((HttpContext context) => WriteAsync(context, Error(404, "invalid_request_error", null, null,
                string.Create(CultureInfo.InvariantCulture, $"Unrecognized request URL ({context.Request.Method}: {context.Request.Path}).")), replayed: false));
        });
        return fake;
    }

    /// <summary>Sends the held events, newest first, each with the usual retries.</summary>
    public Task ReleaseHeldAsync() => _hooks.ReleaseHeldAsync();

    /// <summary>
    /// The customer pays: the intent succeeds in full, its charge is booked as a <c>charge</c> balance transaction
    /// (fee per <see cref="FeeFor"/>) and <c>payment_intent.succeeded</c> is sent.
    /// </summary>
    public Task PayAsync(string paymentIntentId)
    {
        string evt;
        lock (_gate)
        {
            var intent = ExistingIntent(paymentIntentId);
            if (intent.Status is not "requires_payment_method")
            {
                throw new InvalidOperationException($"Cannot pay {paymentIntentId}: it is {intent.Status}.");
            }
            intent.Status = "succeeded";
            intent.AmountReceived = intent.Amount;
            intent.LatestCharge = "ch_" + NewId();
            intent.Declined = false;
            AddBalance("charge", intent.AmountReceived, FeeFor(intent.AmountReceived), intent.Currency, intent.LatestCharge, intent.Id);
            evt = Event("payment_intent.succeeded", intent.ToJson());
        }
        return DispatchAsync(evt);
    }

    /// <summary>The customer's card is declined: the intent waits for another payment method and <c>payment_intent.payment_failed</c> is sent.</summary>
    public Task DeclineAsync(string paymentIntentId)
    {
        string evt;
        lock (_gate)
        {
            var intent = ExistingIntent(paymentIntentId);
            if (intent.Status is not "requires_payment_method")
            {
                throw new InvalidOperationException($"Cannot decline {paymentIntentId}: it is {intent.Status}.");
            }
            intent.Declined = true;
            evt = Event("payment_intent.payment_failed", intent.ToJson());
        }
        return DispatchAsync(evt);
    }

    /// <summary>The intent is canceled (by the customer leaving, or the dashboard) and <c>payment_intent.canceled</c> is sent.</summary>
    public Task CancelAsync(string paymentIntentId)
    {
        string evt;
        lock (_gate)
        {
            var intent = ExistingIntent(paymentIntentId);
            if (intent.Status is "succeeded" or "canceled")
            {
                throw new InvalidOperationException($"Cannot cancel {paymentIntentId}: it is {intent.Status}.");
            }
            intent.Status = "canceled";
            evt = Event("payment_intent.canceled", intent.ToJson());
        }
        return DispatchAsync(evt);
    }

    /// <summary>The next refund created ends <c>failed</c> (card expired or canceled) instead of <c>succeeded</c>.</summary>
    public void FailNextRefund()
    {
        lock (_gate)
        {
            _failNextRefund = true;
        }
    }

    /// <summary>The next <paramref name="count"/> authenticated API requests answer <paramref name="statusCode"/> with an <c>api_error</c>; nothing is executed or saved for their idempotency keys.</summary>
    public void FailNextRequests(int count, int statusCode = 500) => _server.FailNextRequests(count, statusCode);

    /// <summary>The payment intent as the API would return it now, or null if there is none.</summary>
    public JsonElement? PaymentIntent(string id)
    {
        lock (_gate)
        {
            return _intents.TryGetValue(id, out var intent) ? ToElement(intent.ToJson()) : null;
        }
    }

    /// <summary>The refund as it is now, without counting as a fetch (so it does not advance a pending refund).</summary>
    public JsonElement? Refund(string id)
    {
        lock (_gate)
        {
            return _refunds.TryGetValue(id, out var refund) ? ToElement(refund.ToJson()) : null;
        }
    }

    /// <summary>Waits for background deliveries (<c>refund.updated</c>) to finish, retries included.</summary>
    public Task WaitForDeliveriesAsync() => _hooks.WaitForDeliveriesAsync();

    /// <summary>Stripe's processing fee on a charge of <paramref name="amount"/> minor units: 2.9% rounded down, plus 3.00.</summary>
    public static long FeeFor(long amount) => amount * 29 / 1000 + 300;

    /// <summary>The <c>Stripe-Signature</c> header value Stripe would send for <paramref name="payload"/> at <paramref name="unixSeconds"/>.</summary>
    public static string Sign(string payload, string secret, long unixSeconds)
    {
        var timestamp = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + payload));
        return "t=" + timestamp + ",v1=" + Convert.ToHexStringLower(mac);
    }

    public async ValueTask DisposeAsync()
    {
        await _hooks.DrainAsync();
        await _server.DisposeAsync();
        _hooks.Dispose();
    }

    // ---- request pipeline -------------------------------------------------------------------------

    /// <summary>Records the request, then plays the outage, authentication and injected-failure gates in Stripe's order.</summary>
    private Task<bool> AdmitAsync(HttpContext context)
    {
        var request = context.Request;
        var idempotencyKey = request.Headers["Idempotency-Key"].ToString();
        return _server.AdmitAsync(context, idempotencyKey.Length == 0 ? null : idempotencyKey,
            () => Authenticate(request.Headers.Authorization.ToString()),
            status => Error(status, "api_error", null, null, "An unknown error occurred on Stripe's side (injected by FakeStripe)."),
            (ctx, refusal) => WriteAsync(ctx, refusal, replayed: false));
    }

    private static Reply? Authenticate(string authorization)
    {
        const string scheme = "Bearer ";
        var key = authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? authorization[scheme.Length..].Trim() : "";
        if (string.Equals(key, SecretKey, StringComparison.Ordinal))
        {
            return null;
        }
        // Stripe shows only the key's prefix, never enough of it to leak a real key into logs.
        var shown = key.Length == 0 ? "" : key[..Math.Min(8, key.Length)] + "****";
        var message = key.Length == 0
            ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth."
            : "Invalid API Key provided: " + shown;
        return Error(401, "invalid_request_error", "api_key_invalid", null, message);
    }

    /// <summary>
    /// Runs a POST endpoint under Stripe's idempotency rules: a key seen before with the same method, path and
    /// parameters replays the saved reply; with anything different it is refused. Replies to malformed
    /// parameters are not saved (the endpoint never started), as Stripe documents.
    /// </summary>
    private async Task PostAsync(HttpContext context, Func<IFormCollection, Reply> endpoint)
    {
        var request = context.Request;
        var form = request.HasFormContentType ? await request.ReadFormAsync() : FormCollection.Empty;
        var key = request.Headers["Idempotency-Key"].ToString();
        var fingerprint = Fingerprint(request.Method, request.Path.Value ?? "/", form);
        Reply reply;
        var replayed = false;
        lock (_gate)
        {
            if (key.Length > 0 && _idempotent.TryGetValue(key, out var saved))
            {
                if (string.Equals(saved.Fingerprint, fingerprint, StringComparison.Ordinal))
                {
                    reply = saved.Reply;
                    replayed = true;
                }
                else
                {
                    reply = Error(400, "idempotency_error", null, null,
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '"
                        + key + "' if you meant to execute a different request.");
                }
            }
            else
            {
                reply = endpoint(form);
                if (key.Length > 0 && reply.Save)
                {
                    _idempotent[key] = new SavedReply(fingerprint, reply);
                }
            }
        }
        await WriteAsync(context, reply, replayed);
    }

    private async Task GetAsync(HttpContext context, Func<string, (Reply Reply, string? Event)> endpoint)
    {
        var id = context.Request.RouteValues["id"] as string ?? "";
        (Reply Reply, string? Event) result;
        lock (_gate)
        {
            result = endpoint(id);
        }
        if (result.Event is not null)
        {
            // Not awaited: the connector may be reading this refund from inside its own webhook handling.
            _hooks.DispatchInBackground(result.Event);
        }
        await WriteAsync(context, result.Reply, replayed: false);
    }

    private static async Task WriteAsync(HttpContext context, Reply reply, bool replayed)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = "application/json";
        response.Headers["Request-Id"] = "req_" + NewId();
        if (replayed)
        {
            response.Headers["Idempotent-Replayed"] = "true";
        }
        await response.WriteAsync(reply.Body);
    }

    // ---- endpoints (called with _gate held) --------------------------------------------------------

    private Reply CreateIntent(IFormCollection form)
    {
        if (!TryAmount(form, required: true, out var amount, out var bad))
        {
            return bad!;
        }
        var currency = Param(form, "currency");
        if (currency is null)
        {
            return Error(400, "invalid_request_error", "parameter_missing", "currency", "Missing required param: currency.", save: false);
        }
        if (currency.Length != 3 || !currency.All(char.IsAsciiLetter))
        {
            return Error(400, "invalid_request_error", "parameter_invalid_string", "currency", "Invalid currency: " + currency + ".", save: false);
        }
        bool? automatic = null;
        if (Param(form, "automatic_payment_methods[enabled]") is { } enabled)
        {
            if (!bool.TryParse(enabled, out var value))
            {
                return Error(400, "invalid_request_error", "parameter_invalid_boolean", "automatic_payment_methods[enabled]",
                    "Invalid boolean: " + enabled, save: false);
            }
            automatic = value;
        }
        var id = "pi_" + NewId();
        var intent = new IntentState
        {
            Id = id,
            Amount = amount,
            Currency = currency.ToLowerInvariant(),
            ClientSecret = id + "_secret_" + NewId(),
            AutomaticPaymentMethods = automatic,
            Description = Param(form, "description"),
            Metadata = Metadata(form),
            Created = Now(),
        };
        _intents[id] = intent;
        return Ok(intent.ToJson());
    }

    private (Reply, string?) ReadIntent(string id) =>
        _intents.TryGetValue(id, out var intent) ? (Ok(intent.ToJson()), null) : (Missing("payment_intent", "id", id), null);

    private Reply CreateRefund(IFormCollection form)
    {
        var intentId = Param(form, "payment_intent");
        if (intentId is null)
        {
            return Error(400, "invalid_request_error", "parameter_missing", "payment_intent", "Missing required param: payment_intent.", save: false);
        }
        if (!TryAmount(form, required: false, out var requested, out var bad))
        {
            return bad!;
        }
        var reason = Param(form, "reason");
        if (reason is not (null or "duplicate" or "fraudulent" or "requested_by_customer"))
        {
            return Error(400, "invalid_request_error", "parameter_invalid_string", "reason",
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", save: false);
        }
        if (!_intents.TryGetValue(intentId, out var intent))
        {
            return Missing("payment_intent", "payment_intent", intentId);
        }
        if (intent.Status != "succeeded")
        {
            return Error(400, "invalid_request_error", "charge_not_refundable", "payment_intent",
                "This PaymentIntent (" + intentId + ") does not have a successful charge to refund.");
        }
        var left = intent.AmountReceived - _refunds.Values
            .Where(r => r.PaymentIntent == intentId && r.Status != "failed")
            .Sum(r => r.Amount);
        if (requested == 0 && left == 0)
        {
            return Error(400, "invalid_request_error", "charge_already_refunded", null,
                "Charge " + intent.LatestCharge + " has already been refunded.");
        }
        var amount = requested == 0 ? left : requested;
        if (amount > left)
        {
            return Error(400, "invalid_request_error", "amount_too_large", "amount", string.Create(CultureInfo.InvariantCulture,
                $"Refund amount ({amount}) is greater than the unrefunded amount on this payment ({left})."));
        }
        var refund = new RefundState
        {
            Id = "re_" + NewId(),
            Amount = amount,
            Currency = intent.Currency,
            PaymentIntent = intentId,
            Charge = intent.LatestCharge,
            Reason = reason,
            Metadata = Metadata(form),
            Created = Now(),
            WillFail = _failNextRefund,
        };
        _failNextRefund = false;
        _refunds[refund.Id] = refund;
        return Ok(refund.ToJson());
    }

    /// <summary>
    /// Answers with the refund as it is, then settles a pending refund: the first status check sees
    /// <c>pending</c>, later ones the outcome, and <c>refund.updated</c> announces it. A refund that
    /// succeeds is booked as a <c>refund</c> balance transaction (negative, without fee).
    /// </summary>
    private (Reply, string?) ReadRefund(string id)
    {
        if (!_refunds.TryGetValue(id, out var refund))
        {
            return (Missing("refund", "id", id), null);
        }
        var reply = Ok(refund.ToJson());
        if (refund.Status != "pending")
        {
            return (reply, null);
        }
        refund.Status = refund.WillFail ? "failed" : "succeeded";
        refund.FailureReason = refund.WillFail ? "expired_or_canceled_card" : null;
        if (refund.Status == "succeeded")
        {
            AddBalance("refund", -refund.Amount, 0, refund.Currency, refund.Id, refund.PaymentIntent);
        }
        return (reply, Event("refund.updated", refund.ToJson()));
    }

    /// <summary>
    /// Lists balance transactions newest first, optionally bounded by <c>created</c>, paged by <c>limit</c> and
    /// <c>starting_after</c>; <c>expand[]=data.source</c> replaces each source id with the charge or refund.
    /// </summary>
    private (Reply, string?) ListBalance(IQueryCollection query)
    {
        long? from = null;
        long? to = null;
        foreach (var (name, inclusive, lower) in (ReadOnlySpan<(string, bool, bool)>)
            [("created[gte]", true, true), ("created[gt]", false, true), ("created[lte]", true, false), ("created[lt]", false, false)])
        {
            if (!TryQueryLong(query, name, out var bound, out var bad))
            {
                return (bad!, null);
            }
            if (bound is { } at)
            {
                // Kept as inclusive bounds; the strict forms move one second inwards.
                var edge = inclusive ? at : lower ? (at == long.MaxValue ? at : at + 1) : at - 1;
                from = lower ? Math.Max(from ?? long.MinValue, edge) : from;
                to = lower ? to : Math.Min(to ?? long.MaxValue, edge);
            }
        }
        if (!TryQueryLong(query, "limit", out var requestedLimit, out var badLimit))
        {
            return (badLimit!, null);
        }
        if (requestedLimit is < 1 or > MaxListLimit)
        {
            return (Error(400, "invalid_request_error", "parameter_invalid_integer", "limit", requestedLimit < 1
                ? "This value must be greater than or equal to 1."
                : string.Create(CultureInfo.InvariantCulture, $"This value must be less than or equal to {MaxListLimit}.")), null);
        }
        var limit = (int)(requestedLimit ?? DefaultListLimit);
        var expandSource = false;
        foreach (var (name, values) in query)
        {
            if (!name.StartsWith("expand[", StringComparison.Ordinal) || !name.EndsWith(']'))
            {
                continue;
            }
            foreach (var value in values)
            {
                if (value != "data.source")
                {
                    return (Error(400, "invalid_request_error", null, "expand", "This property cannot be expanded (" + value + ")."), null);
                }
                expandSource = true;
            }
        }
        // Newest first; within one second, the later event first.
        var ordered = _balance.Select((entry, index) => (Entry: entry, Index: index))
            .OrderByDescending(p => p.Entry.Created)
            .ThenByDescending(p => p.Index)
            .Select(p => p.Entry)
            .ToList();
        var start = 0;
        if (query.TryGetValue("starting_after", out var cursors))
        {
            var cursor = cursors.Count == 1 ? cursors[0] ?? "" : "";
            var at = ordered.FindIndex(e => string.Equals(e.Id, cursor, StringComparison.Ordinal));
            if (at < 0)
            {
                return (Missing("balance transaction", "starting_after", cursor), null);
            }
            start = at + 1;
        }
        var matching = ordered.Skip(start)
            .Where(e => (from is null || e.Created >= from) && (to is null || e.Created <= to))
            .Take(limit + 1)
            .ToList();
        var data = new JsonArray();
        foreach (var entry in matching.Take(limit))
        {
            data.Add(BalanceJson(entry, expandSource));
        }
        return (Ok(new JsonObject
        {
            ["object"] = "list",
            ["url"] = "/v1/balance_transactions",
            ["has_more"] = matching.Count > limit,
            ["data"] = data,
        }), null);
    }

    private void AddBalance(string type, long amount, long fee, string currency, string source, string paymentIntent) =>
        _balance.Add(new BalanceEntry("txn_" + NewId(), type, amount, fee, currency, source, paymentIntent, Now()));

    private JsonObject BalanceJson(BalanceEntry entry, bool expandSource)
    {
        JsonNode source = entry.Source;
        if (expandSource)
        {
            source = entry.Type == "refund"
                ? _refunds[entry.Source].ToJson()
                : new JsonObject
                {
                    ["id"] = entry.Source,
                    ["object"] = "charge",
                    ["amount"] = entry.Amount,
                    ["currency"] = entry.Currency,
                    ["payment_intent"] = entry.PaymentIntent,
                    ["status"] = "succeeded",
                };
        }
        return new JsonObject
        {
            ["id"] = entry.Id,
            ["object"] = "balance_transaction",
            ["amount"] = entry.Amount,
            ["available_on"] = entry.Created + (long)AvailableAfter.TotalSeconds,
            ["created"] = entry.Created,
            ["currency"] = entry.Currency,
            ["description"] = null,
            ["fee"] = entry.Fee,
            ["fee_details"] = new JsonArray(new JsonObject
            {
                ["amount"] = entry.Fee,
                ["currency"] = entry.Currency,
                ["description"] = "Stripe processing fees",
                ["type"] = "stripe_fee",
            }),
            ["net"] = entry.Amount - entry.Fee,
            ["reporting_category"] = entry.Type,
            ["source"] = source,
            ["status"] = "available",
            ["type"] = entry.Type,
        };
    }

    // ---- webhooks ---------------------------------------------------------------------------------

    private Task DispatchAsync(string evt) => _hooks.DispatchAsync(evt);

    private static async Task<int> PostEventAsync(Uri target, string evt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new StringContent(evt, Encoding.UTF8, new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" }),
        };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign(evt, WebhookSecret, Now()));
        request.Headers.TryAddWithoutValidation("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        return await LoopbackGateway.StatusOfAsync(LoopbackGateway.Webhooks, request);
    }

    private static string Event(string type, JsonObject dataObject) => new JsonObject
    {
        ["id"] = "evt_" + NewId(),
        ["object"] = "event",
        ["type"] = type,
        ["created"] = Now(),
        ["livemode"] = false,
        ["data"] = new JsonObject { ["object"] = dataObject },
    }.ToJsonString(Wire);

    // ---- helpers ----------------------------------------------------------------------------------

    private IntentState ExistingIntent(string id) =>
        _intents.TryGetValue(id, out var intent) ? intent : throw new InvalidOperationException($"FakeStripe has no payment intent {id}.");

    private static bool TryAmount(IFormCollection form, bool required, out long amount, out Reply? bad)
    {
        amount = 0;
        bad = null;
        var raw = Param(form, "amount");
        if (raw is null && !required)
        {
            return true;
        }
        if (raw is not null && long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out amount) && amount > 0)
        {
            return true;
        }
        bad = Error(400, "invalid_request_error", "parameter_invalid_integer", "amount",
            raw is null ? "Missing required param: amount." : "Invalid integer: " + raw + ". The amount must be a positive integer in the currency's smallest unit.",
            save: false);
        return false;
    }

    /// <summary>
    /// One plain non-negative decimal query value, or null when absent. Repeated, empty, signed or padded
    /// values are refused as Stripe refuses a malformed integer.
    /// </summary>
    private static bool TryQueryLong(IQueryCollection query, string name, out long? value, out Reply? bad)
    {
        value = null;
        bad = null;
        if (!query.TryGetValue(name, out var values))
        {
            return true;
        }
        var raw = values.Count == 1 ? values[0] ?? "" : values.ToString();
        if (values.Count == 1 && long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return true;
        }
        bad = Error(400, "invalid_request_error", "parameter_invalid_integer", name, "Invalid integer: " + raw);
        return false;
    }

    private static string? Param(IFormCollection form, string name) =>
        form.TryGetValue(name, out var values) && values.Count > 0 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;

    /// <summary>Collects <c>metadata[key]=value</c> pairs; an empty value means "not set", as in Stripe.</summary>
    private static Dictionary<string, string> Metadata(IFormCollection form)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in form)
        {
            if (name.StartsWith("metadata[", StringComparison.Ordinal) && name.EndsWith(']') && name.Length > "metadata[]".Length
                && !string.IsNullOrEmpty(values.ToString()))
            {
                metadata[name["metadata[".Length..^1]] = values.ToString();
            }
        }
        return metadata;
    }

    /// <summary>Order-insensitive, so a client that reorders the same parameters on retry is still recognised.</summary>
    private static string Fingerprint(string method, string path, IFormCollection form)
    {
        var builder = new StringBuilder(method).Append(' ').Append(path);
        foreach (var (name, values) in form.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var value in values)
            {
                builder.Append('&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
            }
        }
        return builder.ToString();
    }

    private static Reply Ok(JsonObject body) => new(200, body.ToJsonString(Wire), Save: true);

    private static Reply Missing(string kind, string param, string id) =>
        Error(404, "invalid_request_error", "resource_missing", param, "No such " + kind + ": '" + id + "'");

    private static Reply Error(int status, string type, string? code, string? param, string message, bool save = true)
    {
        var error = new JsonObject { ["type"] = type };
        if (code is not null)
        {
            error["code"] = code;
        }
        if (param is not null)
        {
            error["param"] = param;
        }
        error["message"] = message;
        return new Reply(status, new JsonObject { ["error"] = error }.ToJsonString(Wire), save);
    }

    private static JsonElement ToElement(JsonObject json) => LoopbackGateway.ToElement(json, Wire);

    private static string NewId() => RandomNumberGenerator.GetString(IdAlphabet, 24);

    private static long Now() => LoopbackGateway.UnixNow();

    private static JsonObject ToJson(Dictionary<string, string> metadata)
    {
        var json = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            json[key] = value;
        }
        return json;
    }

    /// <param name="Save">Whether an idempotency key may replay this reply (false for malformed parameters).</param>
    private sealed record Reply(int Status, string Body, bool Save);

    private sealed record SavedReply(string Fingerprint, Reply Reply);

    /// <param name="Type"><c>charge</c> or <c>refund</c>; also the reporting category.</param>
    /// <param name="Source">The charge (<c>ch_</c>) or refund (<c>re_</c>) the money moved for.</param>
    private sealed record BalanceEntry(string Id, string Type, long Amount, long Fee, string Currency, string Source, string PaymentIntent, long Created);

    private sealed class IntentState
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required string ClientSecret { get; init; }
        public required long Created { get; init; }
        public required Dictionary<string, string> Metadata { get; init; }
        public bool? AutomaticPaymentMethods { get; init; }
        public string? Description { get; init; }
        public string Status { get; set; } = "requires_payment_method";
        public long AmountReceived { get; set; }
        public string? LatestCharge { get; set; }
        public bool Declined { get; set; }

        public JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["object"] = "payment_intent",
            ["amount"] = Amount,
            ["amount_received"] = AmountReceived,
            ["automatic_payment_methods"] = AutomaticPaymentMethods is { } enabled ? new JsonObject { ["enabled"] = enabled } : null,
            ["client_secret"] = ClientSecret,
            ["created"] = Created,
            ["currency"] = Currency,
            ["description"] = Description,
            ["last_payment_error"] = Declined
                ? new JsonObject
                {
                    ["type"] = "card_error",
                    ["code"] = "card_declined",
                    ["decline_code"] = "generic_decline",
                    ["message"] = "Your card was declined.",
                }
                : null,
            ["latest_charge"] = LatestCharge,
            ["livemode"] = false,
            ["metadata"] = FakeStripe.ToJson(Metadata),
            ["status"] = Status,
        };
    }

    private sealed class RefundState
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required string PaymentIntent { get; init; }
        public required long Created { get; init; }
        public required Dictionary<string, string> Metadata { get; init; }
        public string? Charge { get; init; }
        public string? Reason { get; init; }
        public bool WillFail { get; init; }
        public string Status { get; set; } = "pending";
        public string? FailureReason { get; set; }

        public JsonObject ToJson()
        {
            var json = new JsonObject
            {
                ["id"] = Id,
                ["object"] = "refund",
                ["amount"] = Amount,
                ["charge"] = Charge,
                ["created"] = Created,
                ["currency"] = Currency,
                ["metadata"] = FakeStripe.ToJson(Metadata),
                ["payment_intent"] = PaymentIntent,
                ["reason"] = Reason,
                ["status"] = Status,
            };
            if (FailureReason is not null)
            {
                json["failure_reason"] = FailureReason;
            }
            return json;
        }
    }
}
