using System.Security.Cryptography;

namespace Clearflow.Application.Common;

/// <summary>
/// Generates public ids: a prefix, then 48 bits of milliseconds and 80 random bits in
/// Crockford base32. Ids sort by creation time, which keeps indexes append-mostly and lets
/// cursor pagination use the id itself.
/// </summary>
public sealed class IdGenerator(TimeProvider clock)
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public string New(string prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = (ulong)clock.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(ms >> (8 * (5 - i)));
        }
        RandomNumberGenerator.Fill(bytes[6..]);
        return prefix + Encode(bytes);
    }

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        // 128 bits -> 26 base32 characters (the first carries 3 bits).
        var value = new UInt128(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[..8]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
        Span<char> chars = stackalloc char[26];
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return new string(chars);
    }
}
