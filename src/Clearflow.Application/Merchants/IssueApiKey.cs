using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Merchants;

/// <summary>
/// Issues a secret API key. The key is returned once and only its hash is stored, so a leaked
/// database does not leak keys.
/// </summary>
public sealed class IssueApiKey(IMerchantStore store, IdGenerator ids, TimeProvider clock)
{
    public const string TestPrefix = "sk_test_";
    public const string LivePrefix = "sk_live_";

    public sealed record Issued(ApiKeyRecord Record, string SecretKey);

    public async Task<Result<Issued>> HandleAsync(string merchantId, string mode, CancellationToken cancellationToken)
    {
        if (mode is not ("test" or "live"))
        {
            return Problem.Validation("mode", "Mode must be 'test' or 'live'.");
        }
        if (await store.GetMerchantAsync(merchantId, cancellationToken) is null)
        {
            return Problem.NotFound("Merchant", merchantId);
        }
        var secret = (mode == "test" ? TestPrefix : LivePrefix) + Secrets.RandomToken(32);
        return await StoreAsync(merchantId, secret, mode, cancellationToken);
    }

    /// <summary>Registers a key chosen elsewhere (the demo key from <c>CLEARFLOW_DEMO_SECRET_KEY</c>).</summary>
    public async Task<Result<Issued>> RegisterAsync(string merchantId, string secretKey, CancellationToken cancellationToken)
    {
        if (!IsWellFormed(secretKey))
        {
            return Problem.Validation("secret_key", $"A secret key starts with '{TestPrefix}' or '{LivePrefix}' followed by at least 24 letters or digits.");
        }
        return await StoreAsync(merchantId, secretKey, secretKey.StartsWith(TestPrefix, StringComparison.Ordinal) ? "test" : "live", cancellationToken);
    }

    public static bool IsWellFormed(string key)
    {
        var prefix = key.StartsWith(TestPrefix, StringComparison.Ordinal) ? TestPrefix
            : key.StartsWith(LivePrefix, StringComparison.Ordinal) ? LivePrefix : null;
        if (prefix is null)
        {
            return false;
        }
        var rest = key.AsSpan(prefix.Length);
        return rest.Length is >= 24 and <= 128 && !rest.ContainsAnyExcept("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    }

    private async Task<Issued> StoreAsync(string merchantId, string secret, string mode, CancellationToken cancellationToken)
    {
        var record = new ApiKeyRecord(ids.New(IdPrefixes.ApiKey), merchantId, Secrets.Sha256Hex(secret), secret[..12], mode, clock.GetUtcNow(), null);
        if (!await store.AddApiKeyAsync(record, cancellationToken))
        {
            record = await store.FindApiKeyByHashAsync(record.KeyHash, cancellationToken)
                ?? throw new InvalidOperationException("An API key with this hash exists but cannot be read.");
        }
        return new Issued(record, secret);
    }
}
