using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private sealed class IdempotencyRow
    {
        public string RequestHash { get; set; } = "";
        public long LockedUntil { get; set; }
        public long? ResponseStatus { get; set; }
        public string? ResponseBody { get; set; }
        public long ExpiresAt { get; set; }
    }

    private const string InsertKeySql = """
        INSERT INTO idempotency_keys (merchant_id, idempotency_key, request_hash, locked_until, created_at, expires_at)
        VALUES (@merchantId, @key, @requestHash, @lockedUntil, @now, @expiresAt)
        """;

    private const string ClaimKeySql = InsertKeySql + "\nON CONFLICT DO NOTHING";

    /// <summary>
    /// The claim of a new key as a statement of a larger command, without <c>ON CONFLICT</c>: a key that exists
    /// raises a unique violation and undoes the whole command (ADR 13, ADR 18).
    /// </summary>
    private static Statement NewKeyInsert(IdempotencyClaim claim) => new(claim.ApiKeyHash is null ? InsertKeySql : InsertKeyIfApiKeyValidSql, KeyParameters(claim));

    /// <summary>
    /// The same, for a request whose API key was not read (ADR 22): the merchant id comes from the API key's row, and is
    /// NULL when the key is revoked, gone or another merchant's. The NOT NULL constraint then refuses the row, and with
    /// it the whole command, in the statement's own snapshot: nothing is written for a key revoked before it ran.
    /// </summary>
    private const string InsertKeyIfApiKeyValidSql = """
        INSERT INTO idempotency_keys (merchant_id, idempotency_key, request_hash, locked_until, created_at, expires_at)
        VALUES ((SELECT merchant_id FROM api_keys WHERE key_hash = @apiKeyHash AND merchant_id = @merchantId AND revoked_at IS NULL),
            @key, @requestHash, @lockedUntil, @now, @expiresAt)
        """;

    /// <summary>The parameters of every statement about a claimed key (each uses the ones it names).</summary>
    private static object KeyParameters(IdempotencyClaim claim) => new
    {
        merchantId = claim.MerchantId, key = claim.Key, requestHash = claim.RequestHash, apiKeyHash = claim.ApiKeyHash,
        now = Ms(claim.At), lockedUntil = Ms(claim.At + claim.LockFor), expiresAt = Ms(claim.At + claim.KeepFor),
    };

    public async Task<IdempotencyBegin> BeginIdempotentAsync(IdempotencyClaim claim, CancellationToken cancellationToken)
    {
        var parameters = KeyParameters(claim);
        var now = Ms(claim.At);
        // Bounded: each round either decides or removes an expired row that blocked the insert.
        for (var round = 0; round < 3; round++)
        {
            // Almost always the key is new: one statement, no transaction around it.
            if (await WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(ClaimKeySql, parameters, transaction, cancellationToken)), cancellationToken) == 1)
            {
                return new IdempotencyBegin.Started();
            }
            // The key exists: read it and decide in one transaction.
            var decision = await WriteAsync<IdempotencyBegin?>(async (connection, transaction) =>
            {
                var row = await connection.QuerySingleOrDefaultAsync<IdempotencyRow>(Command(
                    "SELECT request_hash, locked_until, response_status, response_body, expires_at FROM idempotency_keys WHERE merchant_id = @merchantId AND idempotency_key = @key",
                    parameters, transaction, cancellationToken));
                if (row is null)
                {
                    return null; // released between our insert and select: try again
                }
                if (row.ExpiresAt <= now)
                {
                    await connection.ExecuteAsync(Command(
                        "DELETE FROM idempotency_keys WHERE merchant_id = @merchantId AND idempotency_key = @key AND expires_at <= @now",
                        parameters, transaction, cancellationToken));
                    return null;
                }
                if (row.RequestHash != claim.RequestHash)
                {
                    return new IdempotencyBegin.Mismatch();
                }
                if (row.ResponseStatus is { } status)
                {
                    return new IdempotencyBegin.Replay((int)status, row.ResponseBody!);
                }
                if (row.LockedUntil > now)
                {
                    return new IdempotencyBegin.InProgress();
                }
                // The request that held the key died: take it over, unless someone else just did.
                var taken = await connection.ExecuteAsync(Command(
                    """
                    UPDATE idempotency_keys SET locked_until = @lockedUntil
                    WHERE merchant_id = @merchantId AND idempotency_key = @key AND locked_until = @oldLock AND response_status IS NULL
                    """, new { merchantId = claim.MerchantId, key = claim.Key, lockedUntil = Ms(claim.At + claim.LockFor), oldLock = row.LockedUntil }, transaction, cancellationToken));
                return taken == 1 ? new IdempotencyBegin.Started() : new IdempotencyBegin.InProgress();
            }, cancellationToken);
            if (decision is not null)
            {
                return decision;
            }
        }
        return new IdempotencyBegin.InProgress();
    }

    public Task CompleteIdempotentAsync(string merchantId, string key, int statusCode, string body, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => ExecuteAsync(connection, transaction,
            IdempotentReplyUpdate(new IdempotentReply(merchantId, key, statusCode, body)), cancellationToken), cancellationToken);

    private static Statement IdempotentReplyUpdate(IdempotentReply reply) => new(
        "UPDATE idempotency_keys SET response_status = @StatusCode, response_body = @Body WHERE merchant_id = @MerchantId AND idempotency_key = @Key",
        reply);

    public Task ReleaseIdempotentAsync(string merchantId, string key, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            "DELETE FROM idempotency_keys WHERE merchant_id = @merchantId AND idempotency_key = @key AND response_status IS NULL",
            new { merchantId, key }, transaction, cancellationToken)), cancellationToken);

    public Task<int> PurgeExpiredIdempotencyKeysAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            "DELETE FROM idempotency_keys WHERE expires_at <= @now", new { now = Ms(now) }, transaction, cancellationToken)), cancellationToken);
}
