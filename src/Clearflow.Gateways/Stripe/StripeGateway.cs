using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;

namespace Clearflow.Gateways.Stripe;

/// <summary>
/// Stripe PaymentIntents for one merchant's keys. Requests are form-encoded, answers JSON. Every POST
/// carries an Idempotency-Key derived from Clearflow's ids, so asking again after a lost answer returns
/// the first result. Amounts: Stripe's "smallest currency unit" is the ISO minor unit Clearflow stores,
/// except for a few currencies Stripe treats specially, which are refused rather than guessed.
/// </summary>
public sealed class StripeGateway(HttpClient http, StripeOptions options, StripeGateway.Keys keys) : IPaymentGateway, ISettlementSource
{
    public sealed record Keys(string SecretKey, string PublishableKey, string WebhookSecret);

    /// <summary>Stripe documents special amount rules for these (ISK, HUF, TWD, UGX): not supported until handled and tested.</summary>
    private static readonly HashSet<string> SpecialCurrencies = new(StringComparer.Ordinal) { "ISK", "HUF", "TWD", "UGX" };

    public string Name => StripeConnector.GatewayName;

    public async Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (SpecialCurrencies.Contains(request.Currency))
        {
            throw new GatewayRejectedException($"stripe: {request.Currency} amounts follow special rules at Stripe that Clearflow does not handle yet.");
        }
        var intent = await SendAsync(HttpMethod.Post, "v1/payment_intents", new Dictionary<string, string>
        {
            ["amount"] = request.Amount.ToString(CultureInfo.InvariantCulture),
            ["currency"] = request.Currency.ToLowerInvariant(),
            ["automatic_payment_methods[enabled]"] = "true",
            ["metadata[clearflow_order_id]"] = request.OrderId,
            ["description"] = "Clearflow order " + request.OrderId,
        }, request.IdempotencyKey, cancellationToken);
        return new GatewayPayment(Text(intent, "id"), new Dictionary<string, string>
        {
            ["type"] = "stripe_payment_intent",
            ["client_secret"] = Text(intent, "client_secret"),
            ["publishable_key"] = keys.PublishableKey,
            ["return_url"] = request.ReturnUrl,
        });
    }

    public async Task<GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken)
    {
        var intent = await SendAsync(HttpMethod.Get, $"v1/payment_intents/{Uri.EscapeDataString(gatewayReference)}", null, null, cancellationToken);
        return Observe(intent);
    }

    public async Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var refund = await SendAsync(HttpMethod.Post, "v1/refunds", new Dictionary<string, string>
        {
            ["payment_intent"] = request.PaymentReference,
            ["amount"] = request.Amount.ToString(CultureInfo.InvariantCulture),
            ["metadata[clearflow_refund_id]"] = request.IdempotencyKey,
        }, "refund-" + request.IdempotencyKey, cancellationToken);
        return Refund(refund);
    }

    public async Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken) =>
        Refund(await SendAsync(HttpMethod.Get, $"v1/refunds/{Uri.EscapeDataString(refundReference)}", null, null, cancellationToken));

    public Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        headers.TryGetValue(StripeSignature.Header, out var header);
        if (StripeSignature.Verify(header, keys.WebhookSecret, rawBody, receivedAt, options.WebhookTolerance) is { } problem)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Unauthentic(problem));
        }
        try
        {
            using var document = JsonDocument.Parse(rawBody);
            var root = document.RootElement;
            var id = Text(root, "id");
            var type = Text(root, "type");
            var data = root.GetProperty("data").GetProperty("object");
            if (!type.StartsWith("payment_intent.", StringComparison.Ordinal))
            {
                return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Irrelevant(id, type));
            }
            var orderId = data.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("clearflow_order_id", out var o) ? o.GetString() : null;
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Accepted(id, type, Text(data, "id"), orderId, Observe(data)));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or GatewayRejectedException)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Malformed($"Not a Stripe event Clearflow can read: {ex.Message}"));
        }
    }

    /// <summary>Stripe's redirect carries <c>payment_intent</c> and <c>redirect_status</c>, unsigned: only a hint to fetch the status.</summary>
    public Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Task.FromResult<CallbackParseResult>(query.TryGetValue("payment_intent", out var intent) && intent.StartsWith("pi_", StringComparison.Ordinal)
            ? new CallbackParseResult.Authentic(intent, query.GetValueOrDefault("redirect_status") ?? "unknown")
            : new CallbackParseResult.Rejected("The return URL lacks Stripe's payment_intent parameter."));
    }

    /// <summary>"Test connection": fetching an intent that cannot exist. 404 means the key works; 401 that it does not.</summary>
    public async Task<ConnectionCheck> CheckKeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(HttpMethod.Get, "v1/payment_intents/pi_clearflow_connection_test", null, null, cancellationToken);
            return new ConnectionCheck(true, "The secret key works.");
        }
        catch (GatewayRejectedException ex) when (ex.StatusCode == 404)
        {
            return new ConnectionCheck(true, "The secret key works.");
        }
        catch (GatewayRejectedException ex)
        {
            return new ConnectionCheck(false, ex.Message, ex.Code);
        }
        catch (GatewayUnavailableException ex)
        {
            return new ConnectionCheck(false, "Stripe could not be reached: " + ex.Message, "unreachable");
        }
    }

    /// <summary>
    /// Stripe reports money movement as balance transactions (amount, fee, net per charge and refund). Read with
    /// the source expanded, so each line names its payment intent without a call per charge.
    /// </summary>
    public async Task<IReadOnlyList<SettlementLine>> FetchSettlementsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds();
        var end = new DateTimeOffset(to.ToDateTime(TimeOnly.MaxValue), TimeSpan.Zero).ToUnixTimeSeconds();
        var lines = new List<SettlementLine>();
        string? after = null;
        for (var page = 0; page < 1_000; page++)
        {
            var path = string.Create(CultureInfo.InvariantCulture,
                $"v1/balance_transactions?created%5Bgte%5D={start}&created%5Blte%5D={end}&limit=100&expand%5B%5D=data.source")
                + (after is null ? "" : "&starting_after=" + Uri.EscapeDataString(after));
            var list = await SendAsync(HttpMethod.Get, path, null, null, cancellationToken);
            foreach (var item in list.GetProperty("data").EnumerateArray())
            {
                var type = Text(item, "type");
                var source = item.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
                string? intent = source.ValueKind == JsonValueKind.Object && source.TryGetProperty("payment_intent", out var pi) && pi.ValueKind == JsonValueKind.String
                    ? pi.GetString() : null;
                var amount = item.GetProperty("amount").GetInt64();
                var kind = type switch { "charge" or "payment" => "payment", "refund" => "refund", _ => "adjustment" };
                lines.Add(new SettlementLine(kind, source.ValueKind == JsonValueKind.Object ? Text(source, "id") : Text(item, "id"), intent,
                    Math.Abs(amount), item.GetProperty("fee").GetInt64(), 0, item.GetProperty("net").GetInt64(), Text(item, "currency").ToUpperInvariant(),
                    null, Text(item, "id"), DateTimeOffset.FromUnixTimeSeconds(item.GetProperty("available_on").GetInt64())));
                after = Text(item, "id");
            }
            if (!list.TryGetProperty("has_more", out var more) || !more.GetBoolean())
            {
                return lines;
            }
        }
        throw new GatewayUnavailableException("stripe: the balance transaction list did not end after 1000 pages");
    }

    public static GatewayObservation Observe(JsonElement intent)
    {
        var status = Text(intent, "status");
        var currency = Text(intent, "currency").ToUpperInvariant();
        var amount = intent.GetProperty("amount").GetInt64();
        var hadError = intent.TryGetProperty("last_payment_error", out var error) && error.ValueKind == JsonValueKind.Object;
        return status switch
        {
            "succeeded" => new GatewayObservation(GatewayPaymentStatus.Succeeded, intent.GetProperty("amount_received").GetInt64(), currency),
            "canceled" => new GatewayObservation(GatewayPaymentStatus.Cancelled, amount, currency),
            // A declined attempt returns the intent to requires_payment_method: the customer may still pay, so it is not final.
            "requires_payment_method" => new GatewayObservation(hadError ? GatewayPaymentStatus.Pending : GatewayPaymentStatus.Created, amount, currency),
            "requires_confirmation" or "requires_action" or "processing" or "requires_capture" => new GatewayObservation(GatewayPaymentStatus.Pending, amount, currency),
            _ => throw new GatewayRejectedException($"stripe: unknown payment intent status '{status}'."),
        };
    }

    private static GatewayRefund Refund(JsonElement refund)
    {
        var status = Text(refund, "status");
        return status switch
        {
            "succeeded" => new GatewayRefund(Text(refund, "id"), "succeeded"),
            "failed" or "canceled" => new GatewayRefund(Text(refund, "id"), "failed",
                refund.TryGetProperty("failure_reason", out var reason) && reason.ValueKind == JsonValueKind.String ? "stripe: " + reason.GetString() : "stripe: " + status),
            _ => new GatewayRefund(Text(refund, "id"), "pending"),
        };
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()!
        : throw new KeyNotFoundException($"Stripe's answer lacks '{name}'.");

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, Dictionary<string, string>? form, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(method, new Uri(options.BaseUrl, path));
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys.SecretKey);
        message.Headers.Add("Stripe-Version", options.ApiVersion);
        if (idempotencyKey is not null)
        {
            message.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        if (form is not null)
        {
            message.Content = new FormUrlEncodedContent(form);
        }
        var (status, text) = await GatewayHttp.SendAsync(http, message, options.RequestTimeout, Name, cancellationToken);
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new GatewayUnavailableException($"stripe answered {(int)status} with a body that is not JSON", ex);
        }
        if ((int)status is < 200 or > 299)
        {
            var error = body.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
            string? Field(string name) => error.ValueKind == JsonValueKind.Object && error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
            var code = Field("code") ?? Field("type") ?? "unknown";
            throw new GatewayRejectedException($"stripe refused the request ({(int)status} {code}): {Field("message") ?? text}", Name, code, (int)status);
        }
        return body;
    }
}
