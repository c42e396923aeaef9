using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private sealed class CredentialRow
    {
        public string MerchantId { get; set; } = "";
        public string Gateway { get; set; } = "";
        public string Sealed { get; set; } = "";
        public string KeyId { get; set; } = "";
        public string Hint { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }

        public GatewayCredentialRecord ToRecord() => new(MerchantId, Gateway, Sealed, KeyId, Hint, At(CreatedAt), At(UpdatedAt));
    }

    private const string CredentialColumns = "merchant_id, gateway, sealed, key_id, hint, created_at, updated_at";

    public Task PutGatewayCredentialsAsync(GatewayCredentialRecord credentials, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            $"""
            INSERT INTO gateway_credentials ({CredentialColumns}) VALUES (@MerchantId, @Gateway, @Sealed, @KeyId, @Hint, @createdAt, @updatedAt)
            ON CONFLICT (merchant_id, gateway) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id, hint = excluded.hint,
                updated_at = excluded.updated_at
            """,
            new
            {
                credentials.MerchantId, credentials.Gateway, credentials.Sealed, credentials.KeyId, credentials.Hint,
                createdAt = Ms(credentials.CreatedAt), updatedAt = Ms(credentials.UpdatedAt),
            }, transaction, cancellationToken)), cancellationToken);

    public Task<GatewayCredentialRecord?> GetGatewayCredentialsAsync(string merchantId, string gateway, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<CredentialRow>(Command(
            $"SELECT {CredentialColumns} FROM gateway_credentials WHERE merchant_id = @merchantId AND gateway = @gateway",
            new { merchantId, gateway }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<GatewayCredentialRecord>> ListGatewayCredentialsAsync(string? merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<GatewayCredentialRecord>)[.. (await connection.QueryAsync<CredentialRow>(Command(
            $"SELECT {CredentialColumns} FROM gateway_credentials WHERE @merchantId IS NULL OR merchant_id = @merchantId ORDER BY merchant_id, gateway",
            new { merchantId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task<bool> ResealGatewayCredentialsAsync(string merchantId, string gateway, string expectedSealed, string newSealed, string newKeyId,
        CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            """
            UPDATE gateway_credentials SET sealed = @newSealed, key_id = @newKeyId
            WHERE merchant_id = @merchantId AND gateway = @gateway AND sealed = @expectedSealed
            """,
            new { merchantId, gateway, expectedSealed, newSealed, newKeyId }, transaction, cancellationToken)) == 1, cancellationToken);
}
