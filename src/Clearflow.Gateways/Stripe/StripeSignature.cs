using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Clearflow.Gateways.Stripe;

/// <summary>
/// Stripe's webhook signature: header <c>Stripe-Signature: t=&lt;unix s&gt;,v1=&lt;hex&gt;[,v1=...]</c>, where each
/// v1 is <c>hex(HMAC-SHA256(whsec, t + "." + raw body))</c>. Any matching v1 is accepted (Stripe sends
/// several while a secret rolls); the timestamp must be within the tolerance.
/// </summary>
public static class StripeSignature
{
    public const string Header = "Stripe-Signature";

    public static string Compute(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var payload = new byte[prefix.Length + body.Length];
        prefix.CopyTo(payload, 0);
        body.CopyTo(payload.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload));
    }

    /// <returns>Null when valid; otherwise why not.</returns>
    public static string? Verify(string? header, string secret, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return $"Missing {Header} header.";
        }
        long? timestamp = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }
            var (key, value) = (part[..eq], part[(eq + 1)..]);
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (key == "v1")
            {
                signatures.Add(value);
            }
        }
        if (timestamp is null || signatures.Count == 0)
        {
            return $"{Header} lacks t= or v1=.";
        }
        var expected = Encoding.ASCII.GetBytes(Compute(secret, timestamp.Value, body));
        if (!signatures.Any(s => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(s.ToLowerInvariant()))))
        {
            return "No v1 signature matches the body with this endpoint's secret.";
        }
        var age = now - DateTimeOffset.FromUnixTimeSeconds(timestamp.Value);
        return age.Duration() > tolerance
            ? $"The signed timestamp is {Math.Abs(age.TotalSeconds):0} s from now (tolerance {tolerance.TotalSeconds:0} s): a replay or a wrong clock."
            : null;
    }
}
