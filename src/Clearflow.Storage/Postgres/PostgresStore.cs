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

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
