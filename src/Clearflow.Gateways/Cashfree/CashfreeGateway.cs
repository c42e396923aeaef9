using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Domain.Money;
using Clearflow.Domain.Orders;

namespace Clearflow.Gateways.Cashfree;

/// <summary>
/// Cashfree orders for one merchant's app. The Cashfree order id is Clearflow's order id, so webhooks and
/// status name our order directly. Amounts travel as major-unit decimals (<c>499.00</c>): written from
/// minor units and read back from the raw JSON token by integer arithmetic, never through a float.
/// </summary>
public sealed class CashfreeGateway(HttpClient http, CashfreeOptions options, string clientId, string clientSecret) : IPaymentGateway, ISettlementSource
{
    public string Name => CashfreeConnector.GatewayName;

    private bool IsSandbox => clientId.StartsWith("TEST", StringComparison.Ordinal);

    private Uri BaseUrl => IsSandbox ? options.SandboxBaseUrl : options.BaseUrl;

    public async Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var customer = request.Customer;
        if (customer?.Phone is not { Length: > 0 } phone)
        {
            throw new GatewayRejectedException("cashfree requires the customer's phone: send customer.phone with the order.", Name, "customer_phone_missing");
        }
        var body = Json(writer =>
        {
            writer.WriteString("order_id", request.OrderId);
            writer.WritePropertyName("order_amount");
            writer.WriteRawValue(Major(request.Amount, request.Currency));
            writer.WriteString("order_currency", request.Currency);
            writer.WriteStartObject("customer_details");
            writer.WriteString("customer_id", Safe(customer.Id));
            writer.WriteString("customer_phone", phone);
            if (customer.Email is not null)
            {
                writer.WriteString("customer_email", customer.Email);
            }
            if (customer.Name is not null)
            {
                writer.WriteString("customer_name", customer.Name);
            }
            writer.WriteEndObject();
            writer.WriteStartObject("order_meta");
            writer.WriteString("return_url", request.ReturnUrl);
            writer.WriteString("notify_url", request.NotifyUrl);
            writer.WriteEndObject();
        });
        var order = await SendAsync(HttpMethod.Post, "pg/orders", body, request.IdempotencyKey, cancellationToken);
        return new GatewayPayment(Text(order, "order_id"), new Dictionary<string, string>
        {
            ["type"] = "cashfree_session",
            ["payment_session_id"] = Text(order, "payment_session_id"),
            ["mode"] = IsSandbox ? "sandbox" : "production",
        });
    }

    public async Task<GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken)
    {
        var order = await SendAsync(HttpMethod.Get, $"pg/orders/{Uri.EscapeDataString(gatewayReference)}", null, null, cancellationToken);
        var currency = Text(order, "order_currency");
        var amount = Minor(order.GetProperty("order_amount"), currency);
        switch (Text(order, "order_status"))
        {
            case "PAID":
                return new GatewayObservation(GatewayPaymentStatus.Succeeded, amount, currency);
            case "EXPIRED":
                return new GatewayObservation(GatewayPaymentStatus.Expired, amount, currency);
            case "TERMINATED":
                return new GatewayObservation(GatewayPaymentStatus.Cancelled, amount, currency);
            case "ACTIVE" or "TERMINATION_REQUESTED":
                // Active with an attempt behind it: the customer tried; not final either way.
                var payments = await SendAsync(HttpMethod.Get, $"pg/orders/{Uri.EscapeDataString(gatewayReference)}/payments", null, null, cancellationToken);
                var tried = payments.ValueKind == JsonValueKind.Array && payments.GetArrayLength() > 0;
                return new GatewayObservation(tried ? GatewayPaymentStatus.Pending : GatewayPaymentStatus.Created, amount, currency);
            case var other:
                throw new GatewayRejectedException($"cashfree: unknown order status '{other}'.", Name);
        }
    }

    /// <summary>The refund reference is <c>{order id}/{refund id}</c>: Cashfree fetches a refund through its order.</summary>
    public async Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = Json(writer =>
        {
            writer.WritePropertyName("refund_amount");
            writer.WriteRawValue(Major(request.Amount, request.Currency));
            writer.WriteString("refund_id", request.IdempotencyKey);
            writer.WriteString("refund_note", "Clearflow refund " + request.IdempotencyKey);
        });
        var refund = await SendAsync(HttpMethod.Post, $"pg/orders/{Uri.EscapeDataString(request.PaymentReference)}/refunds", body, request.IdempotencyKey,
            cancellationToken);
        return Refund(request.PaymentReference, refund);
    }

    public async Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refundReference);
        var slash = refundReference.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new GatewayRejectedException($"cashfree: '{refundReference}' is not an order/refund reference.", Name);
        }
        var orderId = refundReference[..slash];
        var refund = await SendAsync(HttpMethod.Get,
            $"pg/orders/{Uri.EscapeDataString(orderId)}/refunds/{Uri.EscapeDataString(refundReference[(slash + 1)..])}", null, null, cancellationToken);
        return Refund(orderId, refund);
    }

    public Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (CashfreeSignature.Verify(headers.GetValueOrDefault(CashfreeSignature.SignatureHeader), headers.GetValueOrDefault(CashfreeSignature.TimestampHeader),
                clientSecret, rawBody, receivedAt, options.WebhookTolerance) is { } problem)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Unauthentic(problem));
        }
        try
        {
            using var document = JsonDocument.Parse(rawBody);
            var root = document.RootElement;
            var type = Text(root, "type");
            if (type is not ("PAYMENT_SUCCESS_WEBHOOK" or "PAYMENT_FAILED_WEBHOOK" or "PAYMENT_USER_DROPPED_WEBHOOK"))
            {
                return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Irrelevant(type + ":" + Convert.ToHexStringLower(
                    System.Security.Cryptography.SHA256.HashData(rawBody))[..16], type));
            }
            var data = root.GetProperty("data");
            var orderId = Text(data.GetProperty("order"), "order_id");
            var payment = data.GetProperty("payment");
            var currency = Text(payment, "payment_currency");
            var paymentId = payment.GetProperty("cf_payment_id").ToString();
            var status = Text(payment, "payment_status");
            var observation = type == "PAYMENT_SUCCESS_WEBHOOK" && status == "SUCCESS"
                ? new GatewayObservation(GatewayPaymentStatus.Succeeded, Minor(payment.GetProperty("payment_amount"), currency), currency)
                // A failed or abandoned attempt: the order stays open at Cashfree, the customer may try again.
                : new GatewayObservation(GatewayPaymentStatus.Pending, Minor(payment.GetProperty("payment_amount"), currency), currency);
            // Cashfree sends no event id: a payment's status change is the event, and a retry repeats it exactly.
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Accepted($"{type}:{paymentId}:{status}", type, orderId, orderId, observation));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Malformed($"Not a Cashfree webhook Clearflow can read: {ex.Message}"));
        }
    }

    /// <summary>Cashfree's return is unsigned: the order id is only a hint to fetch the status.</summary>
    public Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Task.FromResult<CallbackParseResult>(query.TryGetValue("order_id", out var orderId) && orderId.Length > 0
            ? new CallbackParseResult.Authentic(orderId, "returned")
            : new CallbackParseResult.Rejected("The return URL lacks order_id."));
    }

    public async Task<ConnectionCheck> CheckKeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(HttpMethod.Get, "pg/orders/clearflow_connection_test", null, null, cancellationToken);
            return new ConnectionCheck(true, "The credentials work.");
        }
        catch (GatewayRejectedException ex) when (ex.StatusCode == 404)
        {
            return new ConnectionCheck(true, "The credentials work.");
        }
        catch (GatewayRejectedException ex)
        {
            return new ConnectionCheck(false, ex.Message, ex.Code);
        }
        catch (GatewayUnavailableException ex)
        {
            return new ConnectionCheck(false, "Cashfree could not be reached: " + ex.Message, "unreachable");
        }
    }

    /// <summary>Cashfree's settlement recon, paged by cursor: payments (amount, service charge and tax, settled amount) and refunds.</summary>
    public async Task<IReadOnlyList<SettlementLine>> FetchSettlementsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var lines = new List<SettlementLine>();
        string? cursor = null;
        for (var page = 0; page < 1_000; page++)
        {
            var body = Json(writer =>
            {
                writer.WriteStartObject("pagination");
                writer.WriteNumber("limit", Math.Clamp(options.SettlementPageSize, 1, 1000));
                if (cursor is null)
                {
                    writer.WriteNull("cursor");
                }
                else
                {
                    writer.WriteString("cursor", cursor);
                }
                writer.WriteEndObject();
                writer.WriteStartObject("filters");
                writer.WriteString("start_date", from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T00:00:00Z");
                writer.WriteString("end_date", to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T23:59:59Z");
                writer.WriteEndObject();
            });
            var report = await SendAsync(HttpMethod.Post, "pg/settlement/recon", body, null, cancellationToken);
            foreach (var row in report.GetProperty("data").EnumerateArray())
            {
                // Documented shape: event_details and settlement_details (order and payment details beside them); flat rows are read too.
                var ev = Part(row, "event_details");
                if (ev.TryGetProperty("event_status", out var eventStatus) && eventStatus.GetString() is { } st && st != "SUCCESS")
                {
                    continue;
                }
                var settlement = Part(row, "settlement_details");
                var order = Part(row, "order_details");
                var payment = Part(row, "payment_details");
                var currency = ev.TryGetProperty("event_currency", out var cur) && cur.ValueKind == JsonValueKind.String ? cur.GetString()! : "INR";
                long Amount(JsonElement part, string name) =>
                    part.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.Number or JsonValueKind.String ? Minor(v, currency) : 0;
                var type = Text(ev, "event_type");
                var refund = type == "REFUND";
                var settled = Amount(ev, "event_settlement_amount");
                lines.Add(new SettlementLine(refund ? "refund" : type == "PAYMENT" ? "payment" : "adjustment", ev.GetProperty("event_id").ToString(),
                    order.TryGetProperty("order_id", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
                    Amount(ev, "event_amount"), Amount(payment, "payment_service_charge"), Amount(payment, "payment_service_tax"), refund ? -settled : settled, currency,
                    settlement.TryGetProperty("cf_settlement_id", out var sid) ? sid.ToString() : null,
                    settlement.TryGetProperty("utr", out var utr) && utr.ValueKind == JsonValueKind.String ? utr.GetString()
                        : settlement.TryGetProperty("settlement_utr", out var utr2) && utr2.ValueKind == JsonValueKind.String ? utr2.GetString() : null,
                    settlement.TryGetProperty("settlement_date", out var at) && at.ValueKind == JsonValueKind.String
                        && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var settledAt) ? settledAt : null));
            }
            cursor = report.TryGetProperty("cursor", out var next) && next.ValueKind == JsonValueKind.String && next.GetString() is { Length: > 0 } c ? c : null;
            if (cursor is null)
            {
                return lines;
            }
        }
        throw new GatewayUnavailableException("cashfree: the settlement report did not end after 1000 pages");
    }

    private static JsonElement Part(JsonElement row, string name) =>
        row.TryGetProperty(name, out var part) && part.ValueKind == JsonValueKind.Object ? part : row;

    /// <summary>Minor units to Cashfree's decimal token, e.g. 49900 INR -> <c>499.00</c>.</summary>
    public static string Major(long minor, string currency) => MoneyFormat.ToMajorUnits(minor, Currency.Parse(currency));

    /// <summary>Cashfree's decimal token (<c>499</c>, <c>499.5</c>, <c>499.00</c>) to minor units, from the raw text.</summary>
    public static long Minor(JsonElement amount, string currency)
    {
        var raw = amount.ValueKind == JsonValueKind.String ? amount.GetString()! : amount.GetRawText();
        return MoneyFormat.TryParseMajorUnits(raw, Currency.Parse(currency), out var minor)
            ? minor
            : throw new FormatException($"cashfree amount '{raw}' is not a {currency} amount.");
    }

    private static string Safe(string customerId) =>
        new([.. customerId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_')]);

    private static GatewayRefund Refund(string orderId, JsonElement refund)
    {
        var reference = $"{orderId}/{Text(refund, "refund_id")}";
        return Text(refund, "refund_status") switch
        {
            "SUCCESS" => new GatewayRefund(reference, "succeeded"),
            "CANCELLED" or "FAILED" => new GatewayRefund(reference, "failed", "cashfree: refund " + Text(refund, "refund_status").ToLowerInvariant()),
            _ => new GatewayRefund(reference, "pending"),
        };
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()!
        : throw new KeyNotFoundException($"Cashfree's answer lacks '{name}'.");

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? json, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(method, new Uri(BaseUrl, path));
        message.Headers.Add("x-client-id", clientId);
        message.Headers.Add("x-client-secret", clientSecret);
        message.Headers.Add("x-api-version", options.ApiVersion);
        if (idempotencyKey is not null)
        {
            message.Headers.Add("x-idempotency-key", idempotencyKey);
        }
        if (json is not null)
        {
            message.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        var (status, text) = await GatewayHttp.SendAsync(http, message, options.RequestTimeout, Name, cancellationToken);
        JsonElement parsed;
        try
        {
            parsed = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new GatewayUnavailableException($"cashfree answered {(int)status} with a body that is not JSON", ex);
        }
        if ((int)status is < 200 or > 299)
        {
            string? Field(string name) => parsed.ValueKind == JsonValueKind.Object && parsed.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
            var code = Field("code") ?? (status == HttpStatusCode.Unauthorized ? "authentication_error" : "unknown");
            throw new GatewayRejectedException($"cashfree refused the request ({(int)status} {code}): {Field("message") ?? text}", Name, code, (int)status);
        }
        return parsed;
    }
}
