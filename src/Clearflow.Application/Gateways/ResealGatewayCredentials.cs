using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Gateways;

/// <summary>
/// <c>clearflow secrets rotate</c>: re-seals every stored credential with the active key, so an old key
/// can then be removed from the configuration. Safe to run while the server runs: a row changed meanwhile
/// keeps its newer value (the replacement is conditional).
/// </summary>
public sealed class ResealGatewayCredentials(IGatewayCredentialStore store, ISecretBox secrets)
{
    public sealed record Outcome(int Resealed, int AlreadyCurrent, int Changed);

    public async Task<Outcome> HandleAsync(CancellationToken cancellationToken)
    {
        int resealed = 0, current = 0, changed = 0;
        foreach (var stored in await store.ListGatewayCredentialsAsync(null, cancellationToken))
        {
            if (secrets.KeyIdOf(stored.Sealed) == secrets.ActiveKeyId)
            {
                current++;
                continue;
            }
            var context = CredentialSealing.Context(stored.MerchantId, stored.Gateway);
            var fresh = secrets.Seal(secrets.Open(stored.Sealed, context), context);
            if (await store.ResealGatewayCredentialsAsync(stored.MerchantId, stored.Gateway, stored.Sealed, fresh, secrets.ActiveKeyId, cancellationToken))
            {
                resealed++;
            }
            else
            {
                changed++;
            }
        }
        return new Outcome(resealed, current, changed);
    }
}
