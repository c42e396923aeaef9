using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;

namespace Clearflow.Gateways.Razorpay;

/// <summary>
/// Razorpay Orders for one merchant's keys. The gateway reference is the Razorpay order id; payments hang
/// off it. Amounts are integer minor units (paise), like Clearflow's. Razorpay has no idempotency key on
/// order creation: a retry after a lost answer makes a second Razorpay order, which is harmless (only the
/// one whose checkout the customer gets can be paid, and the other expires unpaid). Refunds do carry one
/// (<c>X-Refund-Idempotency</c>, Clearflow's refund id).
/// </summary>
public sealed class RazorpayGateway(HttpClient http, RazorpayOptions options, RazorpayGateway.Keys keys) : IPaymentGateway, ISettlementSource
{
    public sealed record Keys(string KeyId, string KeySecret, string WebhookSecret);

    public string Name => RazorpayConnector.GatewayName;

    public async Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var order = await SendAsync(HttpMethod.Post, "v1/orders", new Dictionary<string, object>
        {
            ["amount"] = request.Amount,
            ["currency"] = request.Currency,
            // Clearflow's order id is at most 30 characters; Razorpay allows 40.
            ["receipt"] = request.OrderId,
            ["notes"] = new Dictionary<string, string> { ["clearflow_order_id"] = request.OrderId },
        }, null, cancellationToken);
        return new GatewayPayment(Text(order, "id"), new Dictionary<string, string>
        {
            ["type"] = "razorpay_checkout",
            ["key_id"] = keys.KeyId,
            ["order_id"] = Text(order, "id"),
            ["amount"] = request.Amount.ToString(CultureInfo.InvariantCulture),
            ["currency"] = request.Currency,
            ["callback_url"] = request.ReturnUrl,
        });
    }

    public async Task<GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken)
    {
        var order = await SendAsync(HttpMethod.Get, $"v1/orders/{Uri.EscapeDataString(gatewayReference)}", null, null, cancellationToken);
        var amount = order.GetProperty("amount").GetInt64();
        var currency = Text(order, "currency");
        return Text(order, "status") switch
        {
            "paid" => new GatewayObservation(GatewayPaymentStatus.Succeeded, order.GetProperty("amount_paid").GetInt64(), currency),
            "created" => new GatewayObservation(GatewayPaymentStatus.Created, amount, currency),
            // Tried and not (yet) paid: the customer may try again, so not final.
            "attempted" => new GatewayObservation(GatewayPaymentStatus.Pending, amount, currency),
            var other => throw new GatewayRejectedException($"razorpay: unknown order status '{other}'.", Name),
        };
    }

    public async Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var payments = await SendAsync(HttpMethod.Get, $"v1/orders/{Uri.EscapeDataString(request.PaymentReference)}/payments", null, null, cancellationToken);
        var captured = payments.GetProperty("items").EnumerateArray()
            .FirstOrDefault(p => Text(p, "status") is "captured" or "refunded");
        if (captured.ValueKind != JsonValueKind.Object)
        {
            throw new GatewayRejectedException("razorpay: the order has no captured payment to refund.", Name, "no_captured_payment");
        }
        var refund = await SendAsync(HttpMethod.Post, $"v1/payments/{Uri.EscapeDataString(Text(captured, "id"))}/refund", new Dictionary<string, object>
        {
            ["amount"] = request.Amount,
            ["notes"] = new Dictionary<string, string> { ["clearflow_refund_id"] = request.IdempotencyKey },
        }, request.IdempotencyKey, cancellationToken);
        return Refund(refund);
    }

    public async Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken) =>
        Refund(await SendAsync(HttpMethod.Get, $"v1/refunds/{Uri.EscapeDataString(refundReference)}", null, null, cancellationToken));

    public Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!RazorpaySignatures.Matches(RazorpaySignatures.Webhook(keys.WebhookSecret, rawBody), headers.GetValueOrDefault(RazorpaySignatures.WebhookHeader)))
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Unauthentic(
                $"{RazorpaySignatures.WebhookHeader} is missing or does not match the body with this merchant's webhook secret."));
        }
        if (headers.GetValueOrDefault(RazorpaySignatures.EventIdHeader) is not { Length: > 0 } eventId)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Malformed($"Missing {RazorpaySignatures.EventIdHeader}: events cannot be deduplicated without it."));
        }
        try
        {
            using var document = JsonDocument.Parse(rawBody);
            var root = document.RootElement;
            var type = Text(root, "event");
            var payload = root.GetProperty("payload");
            if (type is not ("payment.captured" or "payment.failed" or "payment.authorized" or "order.paid"))
            {
                return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Irrelevant(eventId, type));
            }
            var payment = payload.GetProperty("payment").GetProperty("entity");
            var orderReference = Text(payment, "order_id");
            var currency = Text(payment, "currency");
            string? merchantReference = null;
            GatewayObservation observation;
            if (type == "order.paid")
            {
                var order = payload.GetProperty("order").GetProperty("entity");
                merchantReference = order.TryGetProperty("notes", out var notes) && notes.ValueKind == JsonValueKind.Object
                    && notes.TryGetProperty("clearflow_order_id", out var id) ? id.GetString() : null;
                observation = new GatewayObservation(GatewayPaymentStatus.Succeeded, order.GetProperty("amount_paid").GetInt64(), currency);
            }
            else
            {
                observation = type == "payment.captured"
                    ? new GatewayObservation(GatewayPaymentStatus.Succeeded, payment.GetProperty("amount").GetInt64(), currency)
                    // Failed or only authorised: the order stays open (the customer may retry; capture is automatic).
                    : new GatewayObservation(GatewayPaymentStatus.Pending, payment.GetProperty("amount").GetInt64(), currency);
            }
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Accepted(eventId, type, orderReference, merchantReference, observation));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Malformed($"Not a Razorpay event Clearflow can read: {ex.Message}"));
        }
    }

    /// <summary>The checkout's success triple, signed with the key secret; still only a hint (a status fetch follows).</summary>
    public Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!query.TryGetValue("razorpay_order_id", out var orderId) || !query.TryGetValue("razorpay_payment_id", out var paymentId)
            || !query.TryGetValue("razorpay_signature", out var signature))
        {
            return Task.FromResult<CallbackParseResult>(new CallbackParseResult.Rejected(
                "The return URL lacks razorpay_order_id, razorpay_payment_id or razorpay_signature."));
        }
        return Task.FromResult<CallbackParseResult>(RazorpaySignatures.Matches(RazorpaySignatures.Checkout(keys.KeySecret, orderId, paymentId), signature)
            ? new CallbackParseResult.Authentic(orderId, "paid")
            : new CallbackParseResult.Rejected("razorpay_signature does not match order_id|payment_id with this merchant's key secret."));
    }

    /// <summary>"Test connection": fetching an order that cannot exist. "does not exist" means the keys work; 401 that they do not.</summary>
    public async Task<ConnectionCheck> CheckKeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(HttpMethod.Get, "v1/orders/order_ClearflowCheck0", null, null, cancellationToken);
            return new ConnectionCheck(true, "The keys work.");
        }
        catch (GatewayRejectedException ex) when (ex.StatusCode is 400 or 404)
        {
            return new ConnectionCheck(true, "The keys work.");
        }
        catch (GatewayRejectedException ex)
        {
            return new ConnectionCheck(false, ex.Message, ex.Code);
        }
        catch (GatewayUnavailableException ex)
        {
            return new ConnectionCheck(false, "Razorpay could not be reached: " + ex.Message, "unreachable");
        }
    }

    /// <summary>Razorpay's combined recon report, one call per day: payments (amount, fee, tax, credit) and refunds (debit).</summary>
    public async Task<IReadOnlyList<SettlementLine>> FetchSettlementsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var lines = new List<SettlementLine>();
        const int PageSize = 1000;
        for (var day = from; day <= to; day = day.AddDays(1))
        for (var skip = 0; ; skip += PageSize)
        {
            // Paged with count/skip: a short page is the last one.
            var report = await SendAsync(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture,
                $"v1/settlements/recon/combined?year={day.Year}&month={day.Month}&day={day.Day}&count={PageSize}&skip={skip}"), null, null, cancellationToken);
            var items = report.GetProperty("items");
            foreach (var row in items.EnumerateArray())
            {
                var kind = Text(row, "type");
                long Number(string name) => row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
                lines.Add(new SettlementLine(kind, Text(row, "entity_id"), row.TryGetProperty("order_id", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
                    Number("amount"), Number("fee"), Number("tax"), Number("credit") - Number("debit"), Text(row, "currency"),
                    row.TryGetProperty("settlement_id", out var sid) && sid.ValueKind == JsonValueKind.String ? sid.GetString() : null,
                    row.TryGetProperty("settlement_utr", out var utr) && utr.ValueKind == JsonValueKind.String ? utr.GetString() : null,
                    row.TryGetProperty("settled_at", out var at) && at.ValueKind == JsonValueKind.Number ? DateTimeOffset.FromUnixTimeSeconds(at.GetInt64()) : null));
            }
            if (items.GetArrayLength() < PageSize)
            {
                break;
            }
        }
        return lines;
    }

    private static GatewayRefund Refund(JsonElement refund) => Text(refund, "status") switch
    {
        "processed" => new GatewayRefund(Text(refund, "id"), "succeeded"),
        "failed" => new GatewayRefund(Text(refund, "id"), "failed", "razorpay: the refund failed"),
        _ => new GatewayRefund(Text(refund, "id"), "pending"),
    };

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()!
        : throw new KeyNotFoundException($"Razorpay's answer lacks '{name}'.");

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, Dictionary<string, object>? body, string? refundIdempotencyKey,
        CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(method, new Uri(options.BaseUrl, path));
        message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{keys.KeyId}:{keys.KeySecret}")));
        if (refundIdempotencyKey is not null)
        {
            message.Headers.Add("X-Refund-Idempotency", refundIdempotencyKey);
        }
        if (body is not null)
        {
            message.Content = JsonContent.Create(body);
        }
        var (status, text) = await GatewayHttp.SendAsync(http, message, options.RequestTimeout, Name, cancellationToken);
        JsonElement parsed;
        try
        {
            parsed = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new GatewayUnavailableException($"razorpay answered {(int)status} with a body that is not JSON", ex);
        }
        if ((int)status is < 200 or > 299)
        {
            var error = parsed.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
            string? Field(string name) => error.ValueKind == JsonValueKind.Object && error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
            var code = Field("code") ?? (status == HttpStatusCode.Unauthorized ? "UNAUTHORIZED" : "unknown");
            throw new GatewayRejectedException($"razorpay refused the request ({(int)status} {code}): {Field("description") ?? text}", Name, code, (int)status);
        }
        return parsed;
    }
}
