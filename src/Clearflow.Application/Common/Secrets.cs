using System.Security.Cryptography;
using System.Text;

namespace Clearflow.Application.Common;

/// <summary>Random tokens, hashes and constant-time comparison in one place.</summary>
public static class Secrets
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>A random token of <paramref name="length"/> base62 characters (~5.95 bits each).</summary>
    public static string RandomToken(int length) => RandomNumberGenerator.GetString(Base62, length);

    /// <summary>
    /// SHA-256 hex of a high-entropy secret. A plain fast hash is right for random 32-character keys
    /// (nothing to brute-force); passwords would need a slow hash instead.
    /// </summary>
    public static string Sha256Hex(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public static bool FixedTimeEquals(string? left, string? right)
    {
        if (left is null || right is null)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(left), Encoding.UTF8.GetBytes(right));
    }

    public static string HmacSha256Hex(string key, ReadOnlySpan<byte> data) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), data));
}
