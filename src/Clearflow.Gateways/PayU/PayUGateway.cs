using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Money;
using Clearflow.Domain.Orders;
using Microsoft.AspNetCore.WebUtilities;

namespace Clearflow.Gateways.PayU;

/// <summary>
/// PayU India for one merchant. There is no server-side order: the customer's browser posts a hashed form
/// to PayU, and PayU posts the (reverse-hashed) result back to the return URL and to the notification URL.
/// The gateway reference is the <c>txnid</c>, derived from Clearflow's order id so a retry names the same
/// transaction. One attempt per order: a failed <c>txnid</c> is final at PayU (a new try needs a new one).
/// Amounts are major-unit strings (<c>499.00</c>), converted by integer arithmetic.
/// </summary>
public sealed class PayUGateway(HttpClient http, PayUOptions options, string key, string salt, bool live) : IPaymentGateway
{
    public string Name => PayUConnector.GatewayName;

    private Uri BaseUrl => live ? options.BaseUrl : options.TestBaseUrl;

    /// <summary>PayU's txnid is at most 25 characters: the order id's last 25 (its random and time bits).</summary>
    public static string TxnId(string orderId)
    {
        ArgumentNullException.ThrowIfNull(orderId);
        return orderId.Length <= 25 ? orderId : orderId[^25..];
    }

    public Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Customer?.Email is not { Length: > 0 } email)
        {
            throw new GatewayRejectedException("payu requires the customer's email: send customer.email with the order.", Name, "email_missing");
        }
        var fields = new Dictionary<string, string>
        {
            ["key"] = key,
            ["txnid"] = TxnId(request.OrderId),
            ["amount"] = MoneyFormat.ToMajorUnits(request.Amount, Currency.Parse(request.Currency)),
            ["productinfo"] = "Order " + request.OrderId,
            ["firstname"] = request.Customer.Name is { Length: > 0 } name ? name : "Customer",
            ["email"] = email,
            ["phone"] = request.Customer.Phone ?? "",
            ["surl"] = request.ReturnUrl,
            ["furl"] = request.ReturnUrl,
            ["udf1"] = request.OrderId,
            ["udf2"] = "",
            ["udf3"] = "",
            ["udf4"] = "",
            ["udf5"] = "",
        };
        fields["hash"] = PayUHashes.Request(fields, salt);
        return Task.FromResult(new GatewayPayment(fields["txnid"], new Dictionary<string, string>
        {
            ["type"] = "payu_form",
            ["action_url"] = new Uri(BaseUrl, "_payment").ToString(),
            // The fields to post, as a JSON object of strings (the checkout payload is a flat map).
            ["form_fields"] = Json.Serialize(fields),
        }));
    }

    public async Task<GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken)
    {
        var details = await TransactionAsync(gatewayReference, cancellationToken);
        return Observe(details);
    }

    public async Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var transaction = await TransactionAsync(request.PaymentReference, cancellationToken);
        var mihpayid = Text(transaction, "mihpayid");
        var answer = await CommandAsync("cancel_refund_transaction", mihpayid, new Dictionary<string, string>
        {
            ["var2"] = request.IdempotencyKey,
            ["var3"] = MoneyFormat.ToMajorUnits(request.Amount, Currency.Parse(request.Currency)),
        }, cancellationToken);
        return new GatewayRefund(answer.GetProperty("request_id").ToString(), "pending");
    }

    public async Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken)
    {
        var answer = await CommandAsync("check_action_status", refundReference, null, cancellationToken);
        var detail = answer.GetProperty("transaction_details").GetProperty(refundReference);
        if (detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty(refundReference, out var inner))
        {
            detail = inner;
        }
        return Text(detail, "status") switch
        {
            "success" => new GatewayRefund(refundReference, "succeeded"),
            "failure" or "failed" => new GatewayRefund(refundReference, "failed", "payu: the refund failed"),
            _ => new GatewayRefund(refundReference, "pending"),
        };
    }

    /// <summary>PayU's server-to-server notification: the same form fields as the browser return, checked by the reverse hash.</summary>
    public Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt,
        CancellationToken cancellationToken)
    {
        var fields = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(rawBody)).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        if (!fields.TryGetValue("key", out var presentedKey) || presentedKey != key || !PayUHashes.Matches(PayUHashes.Response(fields, salt), fields.GetValueOrDefault("hash")))
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Unauthentic("The reverse hash does not match the fields with this merchant's key and salt."));
        }
        if (!fields.TryGetValue("txnid", out var txnid) || !fields.TryGetValue("status", out var status) || !fields.TryGetValue("mihpayid", out var mihpayid))
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Malformed("The notification lacks txnid, status or mihpayid."));
        }
        try
        {
            var observation = Observe(status, fields.GetValueOrDefault("amount") ?? "");
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Accepted($"{mihpayid}:{status}", "payu." + status, txnid,
                fields.GetValueOrDefault("udf1"), observation));
        }
        catch (FormatException ex)
        {
            return Task.FromResult<WebhookParseResult>(new WebhookParseResult.Malformed(ex.Message));
        }
    }

    /// <summary>The browser's return (surl/furl, posted as a form): checked by the reverse hash, then only a hint.</summary>
    public Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var fields = query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (!fields.TryGetValue("txnid", out var txnid) || !fields.TryGetValue("status", out var status))
        {
            return Task.FromResult<CallbackParseResult>(new CallbackParseResult.Rejected("The return lacks PayU's txnid and status."));
        }
        return Task.FromResult<CallbackParseResult>(fields.GetValueOrDefault("key") == key && PayUHashes.Matches(PayUHashes.Response(fields, salt), fields.GetValueOrDefault("hash"))
            ? new CallbackParseResult.Authentic(txnid, status)
            : new CallbackParseResult.Rejected("The reverse hash does not match the fields with this merchant's key and salt."));
    }

    public async Task<ConnectionCheck> CheckKeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CommandAsync("verify_payment", "clearflowconnectiontest", null, cancellationToken);
            return new ConnectionCheck(true, "The key and salt work.");
        }
        catch (GatewayRejectedException ex) when (ex.Code != "invalid_hash")
        {
            // "0 out of 1 transactions fetched": the hash passed, so the key and salt are right.
            return new ConnectionCheck(true, "The key and salt work.");
        }
        catch (GatewayRejectedException ex)
        {
            return new ConnectionCheck(false, ex.Message, ex.Code);
        }
        catch (GatewayUnavailableException ex)
        {
            return new ConnectionCheck(false, "PayU could not be reached: " + ex.Message, "unreachable");
        }
    }

    private static GatewayObservation Observe(JsonElement transaction)
    {
        var status = Text(transaction, "status");
        return status == "Not Found"
            ? new GatewayObservation(GatewayPaymentStatus.Created, null, null)
            : Observe(status, transaction.TryGetProperty("amt", out var amt) ? amt.ToString() : "");
    }

    private static GatewayObservation Observe(string status, string amount)
    {
        // PayU India settles in INR; its answers carry no currency.
        long? minor = MoneyFormat.TryParseMajorUnits(amount, Currency.Parse("INR"), out var parsed) ? parsed : null;
        return status switch
        {
            "success" => new GatewayObservation(GatewayPaymentStatus.Succeeded, minor ?? throw new FormatException($"payu: amount '{amount}' is not an INR amount."), "INR"),
            "failure" => new GatewayObservation(GatewayPaymentStatus.Failed, minor, "INR"),
            "pending" => new GatewayObservation(GatewayPaymentStatus.Pending, minor, "INR"),
            _ => throw new FormatException($"payu: unknown status '{status}'."),
        };
    }

    private async Task<JsonElement> TransactionAsync(string txnid, CancellationToken cancellationToken)
    {
        var answer = await CommandAsync("verify_payment", txnid, null, cancellationToken);
        return answer.GetProperty("transaction_details").GetProperty(txnid);
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ToString() : throw new KeyNotFoundException($"PayU's answer lacks '{name}'.");

    /// <summary>PayU's web service: form posts with a SHA-512 hash; refusals come as HTTP 200 with <c>status: 0</c>.</summary>
    private async Task<JsonElement> CommandAsync(string command, string var1, Dictionary<string, string>? more, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string> { ["key"] = key, ["command"] = command, ["var1"] = var1, ["hash"] = PayUHashes.Command(key, command, var1, salt) };
        foreach (var (name, value) in more ?? [])
        {
            form[name] = value;
        }
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(live ? options.ApiBaseUrl : options.TestBaseUrl, "merchant/postservice.php?form=2")) { Content = new FormUrlEncodedContent(form) };
        var (status, text) = await GatewayHttp.SendAsync(http, message, options.RequestTimeout, Name, cancellationToken);
        JsonElement parsed;
        try
        {
            parsed = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new GatewayUnavailableException($"payu answered {(int)status} with a body that is not JSON", ex);
        }
        var ok = parsed.ValueKind == JsonValueKind.Object && parsed.TryGetProperty("status", out var s) && s.ToString() == "1";
        if ((int)status is < 200 or > 299 || !ok)
        {
            var msg = parsed.ValueKind == JsonValueKind.Object && parsed.TryGetProperty("msg", out var m) ? m.ToString() : text;
            var code = msg.Contains("hash", StringComparison.OrdinalIgnoreCase) ? "invalid_hash" : "status_0";
            throw new GatewayRejectedException($"payu refused '{command}' ({code}): {msg}", Name, code, (int)status);
        }
        return parsed;
    }
}
