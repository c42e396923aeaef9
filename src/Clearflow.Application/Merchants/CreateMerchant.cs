using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Merchants;

/// <summary>Creates a merchant with default settings (CLI: <c>clearflow merchants create</c>).</summary>
public sealed class CreateMerchant(IMerchantStore store, IdGenerator ids, TimeProvider clock)
{
    public async Task<Result<MerchantRecord>> HandleAsync(string name, CancellationToken cancellationToken)
    {
        name = name.Trim();
        if (name.Length is 0 or > 200)
        {
            return Problem.Validation("name", "A merchant name of 1 to 200 characters is required.");
        }
        var merchant = new MerchantRecord(ids.New(IdPrefixes.Merchant), name, new MerchantSettings().ToJson(), clock.GetUtcNow());
        if (!await store.CreateMerchantAsync(merchant, cancellationToken))
        {
            return Problem.Conflict("merchant-name-taken", $"A merchant named '{name}' exists already. Merchant names are unique.");
        }
        return merchant;
    }
}
