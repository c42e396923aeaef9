using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Clearflow.Storage.Sqlite;

/// <summary>
/// The embedded store: one file, one process, no setup. Writes go through one gate per file, because
/// SQLite has a single writer anyway and queuing in-process beats spinning on SQLITE_BUSY.
/// </summary>
public sealed class SqliteStore : SqlStore
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public SqliteStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            ForeignKeys = true,
            Pooling = true,
            DefaultTimeout = 30,
        };
        if (builder.DataSource is { Length: > 0 } path && builder.Mode != SqliteOpenMode.Memory)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        _connectionString = builder.ToString();
    }

    public override string Kind => "sqlite";

    protected override string MigrationFolder => "Sqlite";

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        // WAL lets readers run while one writer commits; FULL sync: a commit we acknowledged survives power loss.
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (the extended codes of SQLITE_CONSTRAINT, 19).
    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    protected override bool IsNotNullViolation(DbException exception, string table, string column) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 1299 } e && e.Message.Contains($"{table}.{column}", StringComparison.Ordinal);

    protected override bool IsReportedByDatabase(DbException exception) => exception is SqliteException;

    /// <summary>SQLite: the same as any write, through the write gate (one writer at a time).</summary>
    protected override Task<T> WriteOneAsync<T>(Func<DbConnection, DbTransaction?, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction) => work(connection, transaction), cancellationToken);

    protected override async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            return await base.WriteAsync(work, cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _singletons = new(StringComparer.Ordinal);

    /// <summary>SQLite serves one process, so an in-process lock is the whole cluster.</summary>
    public override async Task<IAsyncDisposable?> TryAcquireSingletonAsync(string name, CancellationToken cancellationToken)
    {
        var gate = _singletons.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        return await gate.WaitAsync(TimeSpan.Zero, cancellationToken) ? new Releaser(gate) : null;
    }

    private sealed class Releaser(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    protected override async Task<T> WithMigrationLockAsync<T>(DbConnection connection, Func<Task<T>> migrate, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            return await migrate();
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
