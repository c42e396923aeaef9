using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary>Finds the merchant a secret key belongs to, by the key's hash.</summary>
public sealed class AuthenticateApiKey(IMerchantStore store)
{
    public async Task<ApiKeyRecord?> HandleAsync(string presentedKey, CancellationToken cancellationToken)
    {
        if (!IssueApiKey.IsWellFormed(presentedKey))
        {
            return null;
        }
        var key = await store.FindApiKeyByHashAsync(Secrets.Sha256Hex(presentedKey), cancellationToken);
        return key is { RevokedAt: null } ? key : null;
    }
}
