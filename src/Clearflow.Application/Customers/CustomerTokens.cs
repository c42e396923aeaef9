using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Customers;

/// <summary>
/// Short-lived, stateless tokens that let a customer's app read that customer's own payments:
/// <c>ctok_{merchant}.{customer}.{expiry}.{hmac}</c>, each part base64url, signed with a key kept in the
/// database (so every node shares it). Nothing is stored per token: expiry is the only revocation, which
/// is why the lifetime is capped at an hour.
/// </summary>
public sealed class CustomerTokens(ISystemSettings settings, TimeProvider clock)
{
    public const string Prefix = "ctok_";
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);
    private const string KeySetting = "customer_token_key";

    private readonly SemaphoreSlim _keyLoad = new(1, 1);
    private string? _key;

    public sealed record Minted(string Object, string Token, string CustomerId, DateTimeOffset ExpiresAt);

    public sealed record Holder(string MerchantId, string CustomerId);

    /// <param name="lifetimeSeconds">Null for the default (15 minutes); otherwise 60 to 3600.</param>
    public async Task<Result<Minted>> MintAsync(string merchantId, string customerId, long? lifetimeSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customerId);
        if (customerId.Length is 0 or > 64)
        {
            return Problem.Validation("customer_id", "The customer id must be 1 to 64 characters.");
        }
        if (lifetimeSeconds is < 60 || lifetimeSeconds > (long)MaxLifetime.TotalSeconds)
        {
            return Problem.Validation("ttl_seconds", $"A customer token lives 60 to {(long)MaxLifetime.TotalSeconds} seconds.");
        }
        var expires = clock.GetUtcNow() + (lifetimeSeconds is { } s ? TimeSpan.FromSeconds(s) : DefaultLifetime);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds());
        var body = string.Join('.', Encode(merchantId), Encode(customerId), expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        var signature = Secrets.HmacSha256Hex(await KeyAsync(cancellationToken), Encoding.UTF8.GetBytes(body));
        return new Minted("customer_token", Prefix + body + "." + signature, customerId, expiresAt);
    }

    /// <summary>The token's merchant and customer, or null when it is malformed, forged or expired.</summary>
    public async Task<Holder?> VerifyAsync(string token, CancellationToken cancellationToken)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var parts = token[Prefix.Length..].Split('.');
        if (parts.Length != 4 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiry))
        {
            return null;
        }
        var body = string.Join('.', parts[0], parts[1], parts[2]);
        var expected = Secrets.HmacSha256Hex(await KeyAsync(cancellationToken), Encoding.UTF8.GetBytes(body));
        if (!Secrets.FixedTimeEquals(expected, parts[3]) || clock.GetUtcNow().ToUnixTimeSeconds() >= expiry)
        {
            return null;
        }
        var merchantId = Decode(parts[0]);
        var customerId = Decode(parts[1]);
        return merchantId is null || customerId is null ? null : new Holder(merchantId, customerId);
    }

    private async Task<string> KeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } key)
        {
            return key;
        }
        await _keyLoad.WaitAsync(cancellationToken);
        try
        {
            return _key ??= await settings.GetOrAddSettingAsync(KeySetting, Secrets.RandomToken(48), cancellationToken);
        }
        finally
        {
            _keyLoad.Release();
        }
    }

    private static string Encode(string value) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(value));

    private static string? Decode(string value)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
