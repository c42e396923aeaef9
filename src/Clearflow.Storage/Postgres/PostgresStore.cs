using System.Data.Common;
using Dapper;
using Npgsql;

namespace Clearflow.Storage.Postgres;

/// <summary>The store for many nodes: any number of Clearflow processes may share one database.</summary>
public sealed class PostgresStore(NpgsqlDataSource dataSource) : SqlStore, IAsyncDisposable
{
    /// <summary>Advisory lock key held while migrating, so two nodes starting together do not both migrate.</summary>
    private const long MigrationLockKey = 0x436c_6561_7266_6c6f; // "Clearflo"

    public override string Kind => "postgresql";

    protected override string MigrationFolder => "Postgres";

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    protected override bool IsNotNullViolation(DbException exception, string table, string column) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.NotNullViolation } e && e.TableName == table && e.ColumnName == column;

    protected override bool IsReportedByDatabase(DbException exception) => exception is PostgresException;

    protected override async Task<T> WithMigrationLockAsync<T>(DbConnection connection, Func<Task<T>> migrate, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(Command("SELECT pg_advisory_lock(@key)", new { key = MigrationLockKey }, null, cancellationToken));
        try
        {
            return await migrate();
        }
        finally
        {
            await connection.ExecuteAsync(Command("SELECT pg_advisory_unlock(@key)", new { key = MigrationLockKey }, null, CancellationToken.None));
        }
    }

    protected override string ComposeClaimDueSql(string table, string dueColumn, string condition, string setExtra, string returning, string key = "id", string? orderBy = null) => $"""
        WITH due AS (
            SELECT {key} FROM {table} WHERE {condition} AND {dueColumn} <= @now ORDER BY {orderBy ?? dueColumn} LIMIT @limit FOR UPDATE SKIP LOCKED
        )
        UPDATE {table} SET {dueColumn} = @leaseEnd{setExtra} FROM due
        WHERE {table}.{key} = due.{key} AND {table}.{dueColumn} <= @now
        RETURNING {Qualified(table, returning)}
        """;

    protected override Task<bool> WriteIfAsync(Statement guard, IReadOnlyList<Statement> guarded, IReadOnlyList<Statement> always, CancellationToken cancellationToken)
    {
        var (sql, values) = GuardedWrite.Build(guard, guarded, always);
        return WriteOneAsync(async (connection, transaction) =>
        {
            await using var command = PositionalSql.Command((NpgsqlConnection)connection, sql, values);
            return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
        }, cancellationToken);
    }

    // NO KEY UPDATE: revocations of one merchant take turns, while inserts that reference the merchant (orders, outbox,
    // ledger: FOR KEY SHARE on its row) are not held up by one.
    // One text for any number of ids: a list of parameters made a new statement per count, each one more for
    // Npgsql's automatic preparation to make room for and for Dapper to build a parameter reader for.
    protected override string OneOf(string column, IEnumerable<string> ids, DynamicParameters parameters)
    {
        parameters.Add("ids", ids.ToArray());
        return $"{column} = ANY(@ids)";
    }

    protected override string LockMerchantSql => "SELECT id FROM merchants WHERE id = @merchantId FOR NO KEY UPDATE";

    /// <summary>A session-level advisory lock held on a dedicated connection until disposed.</summary>
    public override async Task<IAsyncDisposable?> TryAcquireSingletonAsync(string name, CancellationToken cancellationToken)
    {
        var key = BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("clearflow:" + name)), 0);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var acquired = await connection.ExecuteScalarAsync<bool>(Command("SELECT pg_try_advisory_lock(@key)", new { key }, null, cancellationToken));
        if (!acquired)
        {
            await connection.DisposeAsync();
            return null;
        }
        return new AdvisoryLock(connection, key);
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await connection.ExecuteAsync(Command("SELECT pg_advisory_unlock(@key)", new { key }, null, CancellationToken.None));
            }
            finally
            {
                // If the unlock failed the connection is broken, and a broken connection is closed, not pooled.
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>The channel other nodes LISTEN on; the payload is the order id. Delivered only if the transaction commits.</summary>
    public const string StatusChannel = "clearflow_order_status";

    protected override Statement? StatusChangeAnnouncement(string orderId) => new("SELECT pg_notify(@channel, @orderId)", new { channel = StatusChannel, orderId });

    /// <summary>Opens a dedicated connection listening for status changes made by any node; calls <paramref name="onChange"/> with each order id.</summary>
    public async Task ListenForStatusChangesAsync(Action<string> onChange, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, e) => onChange(e.Payload);
        await connection.ExecuteAsync(Command($"LISTEN {StatusChannel}", null, null, cancellationToken));
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await connection.WaitAsync(cancellationToken);
            }
        }
        finally
        {
            // Pooled connections are not reset on return (StorageConfiguration): take the LISTEN back ourselves.
            try
            {
                await connection.ExecuteAsync(Command($"UNLISTEN {StatusChannel}", null, null, CancellationToken.None));
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // A broken connection is not returned to the pool; nothing is left listening.
            }
        }
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
