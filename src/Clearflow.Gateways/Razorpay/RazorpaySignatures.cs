using System.Security.Cryptography;
using System.Text;

namespace Clearflow.Gateways.Razorpay;

/// <summary>
/// Razorpay's two signatures, both lowercase hex HMAC-SHA256: the webhook's <c>X-Razorpay-Signature</c> over
/// the raw body with the webhook secret (no timestamp is signed, so replays are caught by the event id), and
/// the checkout's <c>razorpay_signature</c> over <c>order_id|payment_id</c> with the key secret.
/// </summary>
public static class RazorpaySignatures
{
    public const string WebhookHeader = "X-Razorpay-Signature";
    public const string EventIdHeader = "X-Razorpay-Event-Id";

    public static string Webhook(string secret, ReadOnlySpan<byte> body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static string Checkout(string keySecret, string orderId, string paymentId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(keySecret), Encoding.UTF8.GetBytes(orderId + "|" + paymentId)));

    public static bool Matches(string expectedHex, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expectedHex), Encoding.ASCII.GetBytes(presented.Trim().ToLowerInvariant()));
}
