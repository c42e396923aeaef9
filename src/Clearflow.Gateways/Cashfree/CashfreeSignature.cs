using System.Security.Cryptography;
using System.Text;

namespace Clearflow.Gateways.Cashfree;

/// <summary>
/// Cashfree's webhook signature: <c>x-webhook-signature = Base64(HMAC-SHA256(client_secret, timestamp + raw body))</c>,
/// the timestamp (<c>x-webhook-timestamp</c>, milliseconds) and the body concatenated with no separator. The body
/// must be the raw bytes: amounts like <c>499.00</c> would not survive a parse and re-serialisation.
/// </summary>
public static class CashfreeSignature
{
    public const string SignatureHeader = "x-webhook-signature";
    public const string TimestampHeader = "x-webhook-timestamp";

    public static string Compute(string clientSecret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp);
        var payload = new byte[prefix.Length + body.Length];
        prefix.CopyTo(payload, 0);
        body.CopyTo(payload.AsSpan(prefix.Length));
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(clientSecret), payload));
    }

    /// <returns>Null when valid; otherwise why not.</returns>
    public static string? Verify(string? signature, string? timestamp, string clientSecret, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(signature) || string.IsNullOrEmpty(timestamp))
        {
            return $"Missing {SignatureHeader} or {TimestampHeader}.";
        }
        if (!long.TryParse(timestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms))
        {
            return $"{TimestampHeader} is not a Unix time in milliseconds.";
        }
        var expected = Encoding.ASCII.GetBytes(Compute(clientSecret, timestamp, body));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature.Trim())))
        {
            return "The signature does not match the body with this merchant's client secret.";
        }
        var age = now - DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return age.Duration() > tolerance
            ? $"The signed timestamp is {Math.Abs(age.TotalSeconds):0} s from now (tolerance {tolerance.TotalSeconds:0} s): a replay or a wrong clock."
            : null;
    }
}
