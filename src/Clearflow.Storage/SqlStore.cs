using System.Data.Common;
using System.Reflection;
using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

/// <summary>
/// The storage port over plain SQL (Dapper). SQLite and PostgreSQL share every statement the two
/// dialects agree on (<c>ON CONFLICT DO NOTHING</c>, <c>RETURNING</c>, partial indexes); the few
/// that differ are virtual and overridden by the adapter.
/// </summary>
public abstract partial class SqlStore : IClearflowStore
{
    static SqlStore() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public abstract string Kind { get; }

    /// <summary>
    /// Raised after a transaction that changed an order's status has committed (in this process). Live
    /// status streams listen to it; PostgreSQL additionally tells other nodes with NOTIFY.
    /// </summary>
    public event Action<string>? OrderStatusChanged;

    /// <summary>Within the transaction: how other nodes learn of the change once it commits (PostgreSQL NOTIFY; nothing on SQLite).</summary>
    protected virtual Statement? StatusChangeAnnouncement(string orderId) => null;

    private Task AnnounceStatusChangeAsync(DbConnection connection, DbTransaction transaction, string orderId, CancellationToken cancellationToken) =>
        StatusChangeAnnouncement(orderId) is { } announcement ? ExecuteAsync(connection, transaction, announcement, cancellationToken) : Task.CompletedTask;

    /// <summary>After commit: tell this process's listeners.</summary>
    protected void RaiseOrderStatusChanged(string orderId) => OrderStatusChanged?.Invoke(orderId);

    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="work"/> in one transaction and commits it.</summary>
    protected virtual async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which sends exactly one command (one statement, or one <see cref="StatementBatch"/>),
    /// without an explicit transaction: one command is atomic on its own (PostgreSQL runs a batch in one implicit
    /// transaction), and there is no separate COMMIT round trip (ADR 12).
    /// </summary>
    protected virtual async Task<T> WriteOneAsync<T>(Func<DbConnection, DbTransaction?, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(connection, null);
    }

    /// <summary>
    /// Runs <paramref name="guard"/>, an <c>UPDATE</c> keyed by id whose <c>WHERE</c> clause decides (a status guard),
    /// then the <paramref name="guarded"/> statements only if it changed a row, and <paramref name="always"/> either way,
    /// all in one transaction; answers whether the guard changed a row. Here: the guard, one batch for the rest, and
    /// COMMIT. PostgreSQL sends it all as one statement (<see cref="Postgres.GuardedWrite"/>, ADR 16).
    /// </summary>
    protected virtual Task<bool> WriteIfAsync(Statement guard, IReadOnlyList<Statement> guarded, IReadOnlyList<Statement> always, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var matched = await ExecuteAsync(connection, transaction, guard, cancellationToken) > 0;
            var rest = new StatementBatch();
            foreach (var statement in matched ? always.Concat(guarded) : always)
            {
                rest.Add(statement);
            }
            await rest.ExecuteAsync(connection, transaction, cancellationToken);
            return matched;
        }, cancellationToken);

    /// <summary>
    /// True when <paramref name="exception"/> is a unique or primary-key violation: a write sent as one command
    /// (so that it costs one round trip) learns this way that its first row already exists, and the database has
    /// undone the whole command.
    /// </summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <summary>
    /// True when <paramref name="exception"/> is a NOT NULL violation of <paramref name="table"/>.<paramref name="column"/>
    /// (ADR 22's key check reads its own that way, and nothing else).
    /// </summary>
    protected abstract bool IsNotNullViolation(DbException exception, string table, string column);

    /// <summary>
    /// True when the database itself reported <paramref name="exception"/> (a refused statement, a deadlock): the
    /// command was undone. False for a failure on the way (a dropped connection), after which it may have committed.
    /// </summary>
    protected abstract bool IsReportedByDatabase(DbException exception);

    /// <summary>Sends <paramref name="batch"/> as one command without an explicit transaction: one round trip, all or nothing.</summary>
    protected Task WriteBatchAsync(StatementBatch batch, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) =>
        {
            await batch.ExecuteAsync(connection, transaction, cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="batch"/> as one command (atomic; ADR 13) and answers false, with nothing written, when its
    /// first insert finds its row already there. Any unique violation in the batch is read that way, so only the rows
    /// whose existence the caller asks about may raise one (the order's receipt; with ADR 18 also the new
    /// Idempotency-Key before it): the statements after them must be updates, inserts without a unique key (timeline
    /// entries), or inserts with <c>ON CONFLICT DO NOTHING</c> (outbox messages). The caller cannot tell which row it
    /// was, and does not need to: either way it takes the path that looks.
    /// </summary>
    protected async Task<bool> InsertAllOrNothingAsync(StatementBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await WriteBatchAsync(batch, cancellationToken);
            return true;
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            return false;
        }
    }

    /// <summary>
    /// A condition true when <paramref name="column"/> is one of <paramref name="ids"/>, its parameters added to
    /// <paramref name="parameters"/>. Here (SQLite) an <c>IN (@id0, @id1, ...)</c> list; PostgreSQL overrides it
    /// with one array parameter (<c>@ids</c>), so that the statement's text is the same whatever the number of ids.
    /// Once per statement: the parameters' names are fixed.
    /// </summary>
    protected virtual string OneOf(string column, IEnumerable<string> ids, DynamicParameters parameters)
    {
        var names = new List<string>();
        foreach (var id in ids)
        {
            var name = "id" + names.Count;
            names.Add("@" + name);
            parameters.Add(name, id);
        }
        return $"{column} IN ({string.Join(", ", names)})";
    }

    protected async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(connection);
    }

    protected static Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, Statement statement, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(Command(statement.Sql, statement.Parameters, transaction, cancellationToken));

    protected static CommandDefinition Command(string sql, object? parameters, DbTransaction? transaction, CancellationToken cancellationToken) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    /// <summary><paramref name="columns"/> (a list such as <c>"id, order_id"</c>) each prefixed with <paramref name="alias"/>.</summary>
    protected static string Qualified(string alias, string columns) => string.Join(", ", columns.Split(", ").Select(c => alias + "." + c));

    protected static long Ms(DateTimeOffset instant) => instant.ToUnixTimeMilliseconds();

    protected static long? Ms(DateTimeOffset? instant) => instant?.ToUnixTimeMilliseconds();

    protected static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    protected static DateTimeOffset? At(long? ms) => ms is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms.Value);

    // ---- migrations ----

    /// <summary>Folder of embedded migration scripts for this dialect.</summary>
    protected abstract string MigrationFolder { get; }

    /// <summary>Holds the migration lock for the duration of <paramref name="migrate"/> (many nodes may start at once).</summary>
    protected abstract Task<T> WithMigrationLockAsync<T>(DbConnection connection, Func<Task<T>> migrate, CancellationToken cancellationToken);

    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken)
    {
        var scripts = LoadMigrations(MigrationFolder);
        await using var connection = await OpenAsync(cancellationToken);
        return await WithMigrationLockAsync(connection, async () =>
        {
            await connection.ExecuteAsync(Command(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                null, null, cancellationToken));
            var applied = (await connection.QueryAsync<long>(Command("SELECT version FROM schema_migrations", null, null, cancellationToken))).ToHashSet();
            var done = new List<int>();
            foreach (var (version, name, sql) in scripts.Where(s => !applied.Contains(s.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await connection.ExecuteAsync(Command(sql, null, transaction, cancellationToken));
                await connection.ExecuteAsync(Command("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)",
                    new { version, name, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, transaction, cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                done.Add(version);
            }
            return (IReadOnlyList<int>)done;
        }, cancellationToken);
    }

    private static List<(int Version, string Name, string Sql)> LoadMigrations(string folder)
    {
        var assembly = typeof(SqlStore).Assembly;
        var prefix = $"{assembly.GetName().Name}.Migrations.{folder}.";
        var scripts = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..^".sql".Length];
            var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add((version, name, reader.ReadToEnd()));
        }
        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No migrations embedded for {folder}.");
        }
        return scripts;
    }

    // ---- system settings ----

    public Task<string> GetOrAddSettingAsync(string name, string valueIfMissing, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(Command("INSERT INTO system_settings (name, value) VALUES (@name, @value) ON CONFLICT DO NOTHING",
                new { name, value = valueIfMissing }, transaction, cancellationToken));
            return await connection.QuerySingleAsync<string>(Command("SELECT value FROM system_settings WHERE name = @name", new { name }, transaction, cancellationToken));
        }, cancellationToken);
}
