using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Merchants;

/// <summary><c>GET /v1/merchant/settings</c>.</summary>
public sealed class GetMerchantSettings(IMerchantStore store)
{
    public async Task<MerchantSettings> HandleAsync(string merchantId, CancellationToken cancellationToken)
    {
        var merchant = await store.GetMerchantAsync(merchantId, cancellationToken)
            ?? throw new InvalidOperationException($"Authenticated merchant {merchantId} does not exist.");
        return MerchantSettings.Parse(merchant.SettingsJson);
    }
}
