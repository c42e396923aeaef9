using System.Security.Cryptography;
using System.Text;
using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Common;

/// <summary>
/// AES-256-GCM with a key id: <c>v1.{keyId}.{base64url(nonce | ciphertext | tag)}</c>. The key id in the
/// value says which key opens it, so keys can rotate: new values use the active key, old ones open with
/// theirs until re-sealed. The context (merchant and gateway) is authenticated as associated data.
/// </summary>
public sealed class AesGcmSecretBox : ISecretBox
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly IReadOnlyDictionary<string, byte[]> _keys;

    /// <param name="keys">Key id to 32-byte key. Ids: letters, digits, '-' and '_'.</param>
    public AesGcmSecretBox(IReadOnlyDictionary<string, byte[]> keys, string activeKeyId)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (id, key) in keys)
        {
            if (key.Length != 32 || id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                throw new ArgumentException($"Secret key '{id}' must have an id of letters, digits, '-' or '_' and be 32 bytes (AES-256).", nameof(keys));
            }
        }
        if (!keys.ContainsKey(activeKeyId))
        {
            throw new ArgumentException($"The active secret key '{activeKeyId}' is not among the configured keys.", nameof(activeKeyId));
        }
        _keys = keys;
        ActiveKeyId = activeKeyId;
    }

    public string ActiveKeyId { get; }

    public string Seal(string plaintext, string context)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + data.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[ActiveKeyId], TagSize);
        aes.Encrypt(nonce, data, output.AsSpan(NonceSize, data.Length), output.AsSpan(NonceSize + data.Length), Aad(ActiveKeyId, context));
        return $"v1.{ActiveKeyId}.{System.Buffers.Text.Base64Url.EncodeToString(output)}";
    }

    public string Open(string sealedValue, string context)
    {
        var keyId = KeyIdOf(sealedValue);
        if (!_keys.TryGetValue(keyId, out var key))
        {
            throw new CryptographicException($"The secret was sealed with key '{keyId}', which is not configured (Clearflow:Secrets:Keys).");
        }
        byte[] input;
        try
        {
            input = System.Buffers.Text.Base64Url.DecodeFromChars(sealedValue.AsSpan(sealedValue.LastIndexOf('.') + 1));
        }
        catch (FormatException e)
        {
            throw new CryptographicException("The sealed secret is not well formed.", e);
        }
        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The sealed secret is too short.");
        }
        var plain = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize, plain.Length), input.AsSpan(NonceSize + plain.Length), plain, Aad(keyId, context));
        return Encoding.UTF8.GetString(plain);
    }

    public string KeyIdOf(string sealedValue)
    {
        ArgumentNullException.ThrowIfNull(sealedValue);
        var parts = sealedValue.Split('.');
        return parts.Length == 3 && parts[0] == "v1" ? parts[1] : throw new CryptographicException("Not a sealed secret (expected v1.<key id>.<data>).");
    }

    /// <summary>The key id is authenticated too: relabelling a value with another key id cannot pass.</summary>
    private static byte[] Aad(string keyId, string context) => Encoding.UTF8.GetBytes($"clearflow-secret-v1|{keyId}|{context}");
}
