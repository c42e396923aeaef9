using System.Security.Cryptography;
using System.Text;

namespace Clearflow.Gateways.PayU;

/// <summary>
/// PayU India's hashes: SHA-512 (lowercase hex) over pipe-joined fields with the merchant's salt, not an
/// HMAC. The field order is PayU's and must be exact; <c>udf1</c>..<c>udf5</c> count even when empty.
/// </summary>
public static class PayUHashes
{
    public static string Sha512(string text) => Convert.ToHexStringLower(SHA512.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The payment form's hash: <c>key|txnid|amount|productinfo|firstname|email|udf1|...|udf5||||||SALT</c>.</summary>
    public static string Request(IReadOnlyDictionary<string, string> f, string salt)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Sha512(string.Join('|', V(f, "key"), V(f, "txnid"), V(f, "amount"), V(f, "productinfo"), V(f, "firstname"), V(f, "email"),
            V(f, "udf1"), V(f, "udf2"), V(f, "udf3"), V(f, "udf4"), V(f, "udf5"), "", "", "", "", "", salt));
    }

    /// <summary>The answer's (reverse) hash: <c>[additionalCharges|]SALT|status||||||udf5|...|udf1|email|firstname|productinfo|amount|txnid|key</c>.</summary>
    public static string Response(IReadOnlyDictionary<string, string> f, string salt)
    {
        ArgumentNullException.ThrowIfNull(f);
        var text = string.Join('|', salt, V(f, "status"), "", "", "", "", "", V(f, "udf5"), V(f, "udf4"), V(f, "udf3"), V(f, "udf2"), V(f, "udf1"),
            V(f, "email"), V(f, "firstname"), V(f, "productinfo"), V(f, "amount"), V(f, "txnid"), V(f, "key"));
        return Sha512(f.TryGetValue("additionalCharges", out var charges) && charges.Length > 0 ? charges + "|" + text : text);
    }

    /// <summary>The web service call's hash: <c>key|command|var1|SALT</c>.</summary>
    public static string Command(string key, string command, string var1, string salt) => Sha512($"{key}|{command}|{var1}|{salt}");

    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented.Trim().ToLowerInvariant()));

    private static string V(IReadOnlyDictionary<string, string> f, string name) => f.TryGetValue(name, out var v) ? v : "";
}
