using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string UserColumns = "id, merchant_id, email, password_hash, role, failed_sign_ins, locked_until, last_sign_in_at, created_at";

    private sealed class UserRow
    {
        public string Id { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string Email { get; set; } = "";
        public string PasswordHash { get; set; } = "";
        public string Role { get; set; } = "";
        public long FailedSignIns { get; set; }
        public long? LockedUntil { get; set; }
        public long? LastSignInAt { get; set; }
        public long CreatedAt { get; set; }

        public DashboardUserRecord ToRecord() =>
            new(Id, MerchantId, Email, PasswordHash, Role, (int)FailedSignIns, At(LockedUntil), At(LastSignInAt), At(CreatedAt));
    }

    private sealed class AuditRow
    {
        public string Id { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string Actor { get; set; } = "";
        public string Role { get; set; } = "";
        public string Action { get; set; } = "";
        public string? Target { get; set; }
        public string? Reason { get; set; }
        public string Outcome { get; set; } = "";
        public long At { get; set; }

        public AuditRecord ToRecord() => new(Id, MerchantId, Actor, Role, Action, Target, Reason, Outcome, SqlStore.At(At));
    }

    private sealed class VolumeRow
    {
        public long Day { get; set; }
        public string Currency { get; set; } = "";
        public long Orders { get; set; }
        public long Paid { get; set; }
        public long AmountPaid { get; set; }
    }

    public Task<bool> AddDashboardUserAsync(DashboardUserRecord user, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            $"""
            INSERT INTO dashboard_users ({UserColumns})
            VALUES (@Id, @MerchantId, @Email, @PasswordHash, @Role, 0, NULL, NULL, @createdAt)
            ON CONFLICT DO NOTHING
            """,
            new { user.Id, user.MerchantId, user.Email, user.PasswordHash, user.Role, createdAt = Ms(user.CreatedAt) }, transaction, cancellationToken)) == 1,
            cancellationToken);

    public Task<DashboardUserRecord?> FindDashboardUserByEmailAsync(string email, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<UserRow>(Command(
            $"SELECT {UserColumns} FROM dashboard_users WHERE email = @email", new { email }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<DashboardUserRecord?> GetDashboardUserAsync(string userId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<UserRow>(Command(
            $"SELECT {UserColumns} FROM dashboard_users WHERE id = @userId", new { userId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<DashboardUserRecord>> ListDashboardUsersAsync(string merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<DashboardUserRecord>)[.. (await connection.QueryAsync<UserRow>(Command(
            $"SELECT {UserColumns} FROM dashboard_users WHERE merchant_id = @merchantId ORDER BY email", new { merchantId }, null, cancellationToken)))
            .Select(r => r.ToRecord())], cancellationToken);

    public Task RecordSignInAsync(string userId, int failedSignIns, DateTimeOffset? lockedUntil, DateTimeOffset? signedInAt, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            """
            UPDATE dashboard_users SET failed_sign_ins = @failedSignIns, locked_until = @lockedUntil,
                   last_sign_in_at = COALESCE(@signedInAt, last_sign_in_at)
            WHERE id = @userId
            """,
            new { userId, failedSignIns, lockedUntil = Ms(lockedUntil), signedInAt = Ms(signedInAt) }, transaction, cancellationToken)), cancellationToken);

    public Task RecordFailedSignInAsync(string userId, int maxFailures, DateTimeOffset lockUntil, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            """
            UPDATE dashboard_users
            SET locked_until = CASE WHEN failed_sign_ins + 1 >= @maxFailures THEN @lockUntil ELSE locked_until END,
                failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= @maxFailures THEN 0 ELSE failed_sign_ins + 1 END
            WHERE id = @userId
            """,
            new { userId, maxFailures, lockUntil = Ms(lockUntil) }, transaction, cancellationToken)), cancellationToken);

    public Task AddAuditAsync(AuditRecord entry, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            """
            INSERT INTO audit_log (id, merchant_id, actor, role, action, target, reason, outcome, at)
            VALUES (@Id, @MerchantId, @Actor, @Role, @Action, @Target, @Reason, @Outcome, @at)
            """,
            new { entry.Id, entry.MerchantId, entry.Actor, entry.Role, entry.Action, entry.Target, entry.Reason, entry.Outcome, at = Ms(entry.At) },
            transaction, cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string merchantId, string? target, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<AuditRecord>)[.. (await connection.QueryAsync<AuditRow>(Command(
            """
            SELECT id, merchant_id, actor, role, action, target, reason, outcome, at FROM audit_log
            WHERE merchant_id = @merchantId AND (@target IS NULL OR target = @target)
            ORDER BY at DESC, id DESC LIMIT @limit
            """,
            new { merchantId, target, limit }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<ApiKeyRecord>)[.. (await connection.QueryAsync<ApiKeyRow>(Command(
            "SELECT id, merchant_id, key_hash, key_prefix, mode, created_at, revoked_at FROM api_keys WHERE merchant_id = @merchantId ORDER BY created_at DESC, id",
            new { merchantId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task<KeyRevocation> RevokeApiKeyAsync(string merchantId, string keyId, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // Revocations of one merchant's keys take turns on its row. Without that, two of them could each see the
            // other key still active (each in its own snapshot) and revoke the last two keys together. The UPDATE
            // below sees what the previous holder committed because it is a new statement under READ COMMITTED (the
            // isolation level of every Clearflow transaction): it takes its snapshot after the lock was granted.
            await connection.ExecuteAsync(Command(LockMerchantSql, new { merchantId }, transaction, cancellationToken));
            // Another active key of the same mode must remain: a live key stands in for no test key, and the reverse.
            var revoked = await connection.ExecuteAsync(Command(
                """
                UPDATE api_keys SET revoked_at = @at
                WHERE id = @keyId AND merchant_id = @merchantId AND revoked_at IS NULL
                  AND EXISTS (SELECT 1 FROM api_keys other
                              WHERE other.merchant_id = @merchantId AND other.id <> @keyId AND other.revoked_at IS NULL AND other.mode = api_keys.mode)
                """, new { merchantId, keyId, at = Ms(at) }, transaction, cancellationToken));
            if (revoked == 1)
            {
                return KeyRevocation.Revoked;
            }
            var isRevoked = await connection.QuerySingleOrDefaultAsync<int?>(Command(
                "SELECT CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END FROM api_keys WHERE id = @keyId AND merchant_id = @merchantId",
                new { merchantId, keyId }, transaction, cancellationToken));
            return isRevoked switch
            {
                null => KeyRevocation.NotFound,
                0 => KeyRevocation.LastActiveKey,
                _ => KeyRevocation.AlreadyRevoked,
            };
        }, cancellationToken);

    /// <summary>
    /// Holds the merchant's row until the transaction ends (parameter: @merchantId). On SQLite one writer runs at a time,
    /// so reading it is enough; PostgreSQL locks it with <c>FOR UPDATE</c>.
    /// </summary>
    protected virtual string LockMerchantSql => "SELECT id FROM merchants WHERE id = @merchantId";

    public Task<IReadOnlyList<DailyVolume>> DailyVolumeAsync(string merchantId, DateTimeOffset from, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<DailyVolume>)[.. (await connection.QueryAsync<VolumeRow>(Command(
            """
            SELECT created_at / 86400000 AS day, currency, COUNT(*) AS orders,
                   SUM(CASE WHEN amount_paid > 0 THEN 1 ELSE 0 END) AS paid, COALESCE(SUM(amount_paid), 0) AS amount_paid
            FROM orders WHERE merchant_id = @merchantId AND created_at >= @from
            GROUP BY created_at / 86400000, currency ORDER BY day, currency
            """,
            new { merchantId, from = Ms(from) }, null, cancellationToken)))
            .Select(r => new DailyVolume(DateOnly.FromDateTime(DateTime.UnixEpoch.AddDays(r.Day)), r.Currency, (int)r.Orders, (int)r.Paid, r.AmountPaid))],
            cancellationToken);

    public Task<IReadOnlyList<int>> OpenOrdersByAgeAsync(string merchantId, IReadOnlyList<DateTimeOffset> createdBefore, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<int>>(async connection =>
        {
            var counts = new List<int>();
            DateTimeOffset? newerBound = null;
            // Bounds run from newest to oldest: bucket i holds orders created in [bound i+1, bound i).
            foreach (var bound in createdBefore.Append(DateTimeOffset.UnixEpoch))
            {
                counts.Add(await connection.ExecuteScalarAsync<int>(Command(
                    """
                    SELECT COUNT(*) FROM orders WHERE merchant_id = @merchantId AND status IN ('created', 'pending', 'unknown')
                    AND created_at >= @lower AND (@upper IS NULL OR created_at < @upper)
                    """,
                    new { merchantId, lower = Ms(bound), upper = Ms(newerBound) }, null, cancellationToken)));
                newerBound = bound;
            }
            return counts;
        }, cancellationToken);

    public Task<int> CountOrdersAsync(string merchantId, string status, CancellationToken cancellationToken) =>
        ReadAsync(async connection => await connection.ExecuteScalarAsync<int>(Command(
            "SELECT COUNT(*) FROM orders WHERE merchant_id = @merchantId AND status = @status", new { merchantId, status }, null, cancellationToken)),
            cancellationToken);

    public Task<bool> ExpediteOrderTaskAsync(string orderId, string kind, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            // Only a task waiting out a backoff (it failed before). Should it be running right now, a second run is still
            // harmless: the merchant gets the same request id, and only one completion of a pending task can win.
            "UPDATE order_tasks SET available_at = @now WHERE order_id = @orderId AND kind = @kind AND status = 'pending' AND last_error IS NOT NULL AND available_at > @now",
            new { orderId, kind, now = Ms(now) }, transaction, cancellationToken)) > 0, cancellationToken);
}
