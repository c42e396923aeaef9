using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary>Revokes one of the merchant's secret keys at once (the second half of a rotation: issue the new key, deploy it, revoke the old).</summary>
public sealed class RevokeApiKey(IDashboardStore store, TimeProvider clock)
{
    public async Task<Result<string>> HandleAsync(string merchantId, string keyId, CancellationToken cancellationToken)
    {
        var keys = await store.ListApiKeysAsync(merchantId, cancellationToken);
        if (keys.All(k => k.Id != keyId))
        {
            return Problem.NotFound("API key", keyId);
        }
        if (keys.Count(k => k.RevokedAt is null) == 1 && keys.Any(k => k.Id == keyId && k.RevokedAt is null))
        {
            return Problem.Conflict("last-key", "This is the merchant's only active key: issue its replacement first, then revoke it.");
        }
        return await store.RevokeApiKeyAsync(merchantId, keyId, clock.GetUtcNow(), cancellationToken)
            ? "revoked"
            : Problem.Conflict("already-revoked", "That key is already revoked.");
    }
}
