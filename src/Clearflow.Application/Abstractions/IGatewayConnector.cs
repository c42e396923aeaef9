namespace Clearflow.Application.Abstractions;

/// <summary>One field of a gateway's credentials, as the merchant enters it.</summary>
/// <param name="Secret">Never shown again once stored; only a hint of it is.</param>
/// <param name="Prefixes">Accepted beginnings (e.g. <c>sk_test_</c>, <c>sk_live_</c>); empty: anything non-blank.</param>
public sealed record CredentialField(string Name, bool Secret, string Description, IReadOnlyList<string> Prefixes);

/// <summary>What "test connection" found.</summary>
/// <param name="Code">The gateway's own error code when it refused (<c>api_key_invalid</c>, ...).</param>
public sealed record ConnectionCheck(bool Ok, string Message, string? Code = null);

/// <summary>
/// A real gateway, which needs each merchant's own credentials. The registry binds it to a merchant's
/// decrypted credentials for the length of one use; the bound <see cref="IPaymentGateway"/> is what the
/// use cases talk to, exactly as to the sandbox.
/// </summary>
public interface IGatewayConnector
{
    string Name { get; }

    IReadOnlyList<CredentialField> Fields { get; }

    IPaymentGateway Bind(IReadOnlyDictionary<string, string> credentials);

    /// <summary>Makes one harmless authenticated call with the credentials.</summary>
    Task<ConnectionCheck> TestConnectionAsync(IReadOnlyDictionary<string, string> credentials, CancellationToken cancellationToken);
}

/// <summary>A merchant's credentials for one gateway, sealed (encrypted and authenticated) at rest.</summary>
/// <param name="Hint">What may be shown: the non-secret fields and the first characters of the key ids.</param>
public sealed record GatewayCredentialRecord(string MerchantId, string Gateway, string Sealed, string KeyId, string Hint, DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public interface IGatewayCredentialStore
{
    /// <summary>Inserts or replaces the merchant's credentials for the gateway.</summary>
    Task PutGatewayCredentialsAsync(GatewayCredentialRecord credentials, CancellationToken cancellationToken);

    Task<GatewayCredentialRecord?> GetGatewayCredentialsAsync(string merchantId, string gateway, CancellationToken cancellationToken);

    Task<IReadOnlyList<GatewayCredentialRecord>> ListGatewayCredentialsAsync(string? merchantId, CancellationToken cancellationToken);

    /// <summary>Replaces the sealed blob only if it is still <paramref name="expectedSealed"/> (a rotation racing an update loses).</summary>
    Task<bool> ResealGatewayCredentialsAsync(string merchantId, string gateway, string expectedSealed, string newSealed, string newKeyId,
        CancellationToken cancellationToken);
}

/// <summary>
/// Authenticated encryption of secrets at rest. The context binds a sealed value to where it
/// belongs (merchant and gateway), so a blob copied to another row does not open.
/// </summary>
public interface ISecretBox
{
    string ActiveKeyId { get; }

    string Seal(string plaintext, string context);

    /// <exception cref="System.Security.Cryptography.CryptographicException">tampered, wrong context, or a key that is not configured.</exception>
    string Open(string sealedValue, string context);

    /// <summary>The id of the key a sealed value was made with.</summary>
    string KeyIdOf(string sealedValue);
}
