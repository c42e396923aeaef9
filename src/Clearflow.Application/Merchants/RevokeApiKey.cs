using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary>Revokes one of the merchant's secret keys at once (the second half of a rotation: issue the new key, deploy it, revoke the old).</summary>
public sealed class RevokeApiKey(IDashboardStore store, TimeProvider clock)
{
    public async Task<Result<string>> HandleAsync(string merchantId, string keyId, CancellationToken cancellationToken) =>
        await store.RevokeApiKeyAsync(merchantId, keyId, clock.GetUtcNow(), cancellationToken) switch
        {
            KeyRevocation.Revoked => "revoked",
            KeyRevocation.NotFound => Problem.NotFound("API key", keyId),
            KeyRevocation.AlreadyRevoked => Problem.Conflict("already-revoked", "That key is already revoked."),
            _ => Problem.Conflict("last-key", "This is the merchant's only active key of its mode (test or live): issue its replacement first, then revoke it."),
        };
}
