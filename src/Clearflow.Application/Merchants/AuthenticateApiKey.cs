using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary>Finds the merchant a secret key belongs to, by the key's hash.</summary>
public sealed class AuthenticateApiKey(IMerchantStore store, KnownApiKeys known)
{
    /// <summary>The key if it is valid now (read from the database).</summary>
    public async Task<ApiKeyRecord?> HandleAsync(string presentedKey, CancellationToken cancellationToken) =>
        IssueApiKey.IsWellFormed(presentedKey) ? await ValidAsync(Secrets.Sha256Hex(presentedKey), cancellationToken) : null;

    /// <summary>
    /// The key as this process last saw it valid, without reading anything; null when not seen. Only for a request
    /// that checks the key again in the command that writes (ADR 22): it may have been revoked since.
    /// </summary>
    public ApiKeyRecord? Known(string presentedKey) => IssueApiKey.IsWellFormed(presentedKey) ? known.Find(Secrets.Sha256Hex(presentedKey)) : null;

    /// <summary>The key with this hash if it is valid now (read from the database); a key found revoked or gone is forgotten.</summary>
    public async Task<ApiKeyRecord?> ValidAsync(string keyHash, CancellationToken cancellationToken)
    {
        var key = await store.FindApiKeyByHashAsync(keyHash, cancellationToken);
        if (key is not { RevokedAt: null })
        {
            known.Forget(keyHash);
            return null;
        }
        known.Remember(key);
        return key;
    }
}
