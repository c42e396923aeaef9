using System.Security.Cryptography;
using System.Text;

namespace Clearflow.Gateways.Sandbox;

/// <summary>
/// The sandbox gateway's wire protocol, shared by the connector (Clearflow's side) and the hosted
/// sandbox site (the gateway's side). Modelled on Stripe: a timestamp header and an HMAC-SHA256 over
/// <c>timestamp + "." + raw body</c>, so a captured webhook cannot be replayed outside the window.
/// </summary>
public static class SandboxProtocol
{
    public const string GatewayName = "sandbox";

    public const string EventIdHeader = "Sandbox-Event-Id";
    public const string TimestampHeader = "Sandbox-Timestamp";
    public const string SignatureHeader = "Sandbox-Signature";

    // Installation-wide secrets, generated once and kept in system_settings.
    public const string ApiKeySetting = "sandbox.api_key";
    public const string WebhookSecretSetting = "sandbox.webhook_secret";
    public const string CallbackSecretSetting = "sandbox.callback_secret";

    /// <summary>Lower-case hex HMAC-SHA256 of <c>{timestamp}.{body}</c>.</summary>
    public static string SignWebhook(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
        var payload = new byte[prefix.Length + body.Length];
        prefix.CopyTo(payload, 0);
        body.CopyTo(payload.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload));
    }

    /// <summary>Lower-case hex HMAC-SHA256 of <c>{sandbox order id}|{status}</c>, carried on the return URL.</summary>
    public static string SignCallback(string secret, string sandboxOrderId, string status) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(sandboxOrderId + "|" + status)));

    public static bool FixedTimeEqualsHex(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented.Trim().ToLowerInvariant()));

    // The sandbox's JSON documents.
    public sealed record CreateOrderBody(long Amount, string Currency, string MerchantReference, string ReturnUrl, string NotifyUrl);

    public sealed record OrderBody(string Id, string Status, long Amount, string Currency, string MerchantReference, string? PaymentId, string CheckoutUrl);

    public sealed record CreateRefundBody(long Amount, string RefundId);

    /// <param name="Status">"pending", "succeeded" or "failed"</param>
    public sealed record RefundBody(string Id, string OrderId, long Amount, string Status);

    public sealed record WebhookBody(string Id, string Type, long CreatedAt, WebhookData Data);

    public sealed record WebhookData(string OrderId, string? PaymentId, string MerchantReference, string Status, long Amount, string Currency);
}
