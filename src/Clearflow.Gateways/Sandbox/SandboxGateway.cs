using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;
using Microsoft.Extensions.Options;

namespace Clearflow.Gateways.Sandbox;

/// <summary>
/// The connector for the sandbox gateway. It talks to the sandbox over HTTP like any real connector,
/// so everything between Clearflow and a gateway (timeouts, 5xx, signatures) is exercised for real.
/// </summary>
public sealed class SandboxGateway(HttpClient http, SandboxAccount account, IPublicUrls urls, IOptions<SandboxOptions> options) : IPaymentGateway
{
    public string Name => SandboxProtocol.GatewayName;

    private Uri BaseUrl => options.Value.BaseUrl ?? new Uri(urls.BaseUri, "sandbox/");

    public async Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "api/orders"))
        {
            Content = JsonContent.Create(new SandboxProtocol.CreateOrderBody(request.Amount, request.Currency, request.OrderId, request.ReturnUrl, request.NotifyUrl),
                options: Json.Options),
        };
        message.Headers.Add("Idempotency-Key", request.IdempotencyKey);
        var order = await SendAsync<SandboxProtocol.OrderBody>(message, cancellationToken);
        return new GatewayPayment(order.Id, new Dictionary<string, string>
        {
            ["type"] = "sandbox_hosted",
            ["checkout_url"] = order.CheckoutUrl,
            ["sandbox_order_id"] = order.Id,
        });
    }

    public async Task<GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, $"api/orders/{Uri.EscapeDataString(gatewayReference)}"));
        var order = await SendAsync<SandboxProtocol.OrderBody>(message, cancellationToken);
        return new GatewayObservation(MapStatus(order.Status), order.Amount, order.Currency);
    }

    public async Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, $"api/orders/{Uri.EscapeDataString(request.PaymentReference)}/refunds"))
        {
            Content = JsonContent.Create(new SandboxProtocol.CreateRefundBody(request.Amount, request.IdempotencyKey), options: Json.Options),
        };
        var refund = await SendAsync<SandboxProtocol.RefundBody>(message, cancellationToken);
        return new GatewayRefund(refund.Id, refund.Status, refund.Status == "failed" ? "the sandbox declined the refund" : null);
    }

    public async Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, $"api/refunds/{Uri.EscapeDataString(refundReference)}"));
        var refund = await SendAsync<SandboxProtocol.RefundBody>(message, cancellationToken);
        return new GatewayRefund(refund.Id, refund.Status, refund.Status == "failed" ? "the sandbox declined the refund" : null);
    }

    public async Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!headers.TryGetValue(SandboxProtocol.SignatureHeader, out var signature) || !headers.TryGetValue(SandboxProtocol.TimestampHeader, out var timestampText))
        {
            return new WebhookParseResult.Unauthentic($"Missing {SandboxProtocol.SignatureHeader} or {SandboxProtocol.TimestampHeader} header.");
        }
        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return new WebhookParseResult.Unauthentic($"{SandboxProtocol.TimestampHeader} is not a Unix time in seconds.");
        }
        var expected = SandboxProtocol.SignWebhook(await account.WebhookSecretAsync(cancellationToken), timestamp, rawBody);
        if (!SandboxProtocol.FixedTimeEqualsHex(expected, signature))
        {
            return new WebhookParseResult.Unauthentic("The signature does not match the body.");
        }
        // Checked after the signature, so the timestamp itself is known to be the gateway's.
        var age = receivedAt - DateTimeOffset.FromUnixTimeSeconds(timestamp);
        if (age.Duration() > options.Value.WebhookTolerance)
        {
            return new WebhookParseResult.Unauthentic($"The signed timestamp is {Math.Abs(age.TotalSeconds):0} s from now (tolerance {options.Value.WebhookTolerance.TotalSeconds:0} s): a replay or a badly wrong clock.");
        }

        SandboxProtocol.WebhookBody? body;
        try
        {
            body = JsonSerializer.Deserialize<SandboxProtocol.WebhookBody>(rawBody, Json.Options);
        }
        catch (JsonException ex)
        {
            return new WebhookParseResult.Malformed($"The webhook body is not the sandbox's event JSON: {ex.Message}");
        }
        if (body?.Data is null || string.IsNullOrEmpty(body.Id) || string.IsNullOrEmpty(body.Data.OrderId))
        {
            return new WebhookParseResult.Malformed("The webhook body lacks id or data.order_id.");
        }
        GatewayPaymentStatus status;
        try
        {
            status = MapStatus(body.Data.Status);
        }
        catch (GatewayRejectedException ex)
        {
            return new WebhookParseResult.Malformed(ex.Message);
        }
        return new WebhookParseResult.Accepted(body.Id, body.Type, body.Data.OrderId, body.Data.MerchantReference,
            new GatewayObservation(status, body.Data.Amount, body.Data.Currency));
    }

    public async Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!query.TryGetValue("sandbox_order_id", out var orderId) || !query.TryGetValue("sandbox_status", out var status)
            || !query.TryGetValue("sandbox_signature", out var signature))
        {
            return new CallbackParseResult.Rejected("The return URL lacks sandbox_order_id, sandbox_status or sandbox_signature.");
        }
        var expected = SandboxProtocol.SignCallback(await account.CallbackSecretAsync(cancellationToken), orderId, status);
        return SandboxProtocol.FixedTimeEqualsHex(expected, signature)
            ? new CallbackParseResult.Authentic(orderId, status)
            : new CallbackParseResult.Rejected("The callback signature does not match.");
    }

    public static GatewayPaymentStatus MapStatus(string status) => status switch
    {
        "created" => GatewayPaymentStatus.Created,
        "pending" => GatewayPaymentStatus.Pending,
        "succeeded" => GatewayPaymentStatus.Succeeded,
        "failed" => GatewayPaymentStatus.Failed,
        "cancelled" => GatewayPaymentStatus.Cancelled,
        "expired" => GatewayPaymentStatus.Expired,
        _ => throw new GatewayRejectedException($"Unknown sandbox status '{status}'."),
    };

    private async Task<T> SendAsync<T>(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await account.ApiKeyAsync(cancellationToken));
        var (status, text) = await GatewayHttp.SendAsync(http, message, options.Value.RequestTimeout, Name, cancellationToken);
        if ((int)status is < 200 or > 299)
        {
            throw new GatewayRejectedException($"sandbox answered {(int)status}: {text[..Math.Min(text.Length, 300)]}", Name, null, (int)status);
        }
        try
        {
            return JsonSerializer.Deserialize<T>(text, Json.Options) ?? throw new GatewayUnavailableException("sandbox answered with an empty body");
        }
        catch (JsonException ex)
        {
            throw new GatewayUnavailableException("sandbox answered with a body that is not its JSON", ex);
        }
    }
}
