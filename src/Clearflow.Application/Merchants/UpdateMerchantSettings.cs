using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary><c>PUT /v1/merchant/settings</c>: replaces the settings after validating every field.</summary>
public sealed class UpdateMerchantSettings(IMerchantStore store, IGatewayRegistry gateways)
{
    public async Task<Result<MerchantSettings>> HandleAsync(string merchantId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        MerchantSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<MerchantSettings>(body.Span, Json.Options);
        }
        catch (JsonException ex)
        {
            return Problem.BadRequest("malformed-json", $"The settings are not valid JSON of the expected shape: {ex.Message} (durations are strings like \"00:15:00\").");
        }
        if (settings is null)
        {
            return Problem.BadRequest("malformed-json", "Send the settings as a JSON object.");
        }
        var problems = settings.Problems(gateways.Names);
        if (problems.Count > 0)
        {
            return Problem.Validation(problems);
        }
        if (settings.Fulfilment.Mode == "webhook" && settings.Fulfilment.SigningSecret is null)
        {
            settings = settings with { Fulfilment = settings.Fulfilment with { SigningSecret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) } };
        }
        await store.UpdateMerchantSettingsAsync(merchantId, settings.ToJson(), cancellationToken);
        return settings;
    }
}
