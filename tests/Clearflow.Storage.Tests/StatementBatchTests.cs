using System.Data.Common;
using Clearflow.Storage;
using Clearflow.TestSupport;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace Clearflow.Storage.Tests;

/// <summary>
/// <see cref="StatementBatch"/> against each real database: statements keep their own parameter values even when
/// they share names, and an '@' inside a quoted literal is text, not a parameter.
/// </summary>
public abstract class StatementBatchContract
{
    protected abstract Task<DbConnection> OpenAsync();

    [Fact]
    public async Task Statements_keep_their_own_values_and_an_at_sign_inside_a_literal_stays_text()
    {
        await using var connection = await OpenAsync();
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE notes (id BIGINT NOT NULL, body TEXT NOT NULL, extra TEXT NULL)";
            await create.ExecuteNonQueryAsync();
        }

        var batch = new StatementBatch();
        batch.Add(new Statement("INSERT INTO notes (id, body, extra) VALUES (@id, @body, 'mail ops@example.com about @id, it''s @body')", new { id = 1L, body = "first" }));
        batch.Add(new Statement("INSERT INTO notes (id, body, extra) VALUES (@id, @body, @extra)", new { id = 2L, body = "second", extra = (string?)null }));
        batch.Add(new Statement("UPDATE notes SET extra = COALESCE(extra, @fallback) WHERE id = @id", new { fallback = "filled", id = 2L }));
        batch.Add(new Statement("INSERT INTO notes (id, body, extra) VALUES (@id, @body, @body)", new { id = 3L, body = "twice" })); // one value, named twice
        Assert.Equal(4, batch.Count);
        await batch.ExecuteAsync(connection, null, CancellationToken.None);
        Assert.Equal(0, batch.Count);

        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT id, body, extra FROM notes ORDER BY id";
        await using var reader = await read.ExecuteReaderAsync();
        var rows = new List<(long, string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }
        Assert.Equal([(1L, "first", "mail ops@example.com about @id, it's @body"), (2L, "second", "filled"), (3L, "twice", "twice")], rows);
    }
}

public sealed class SqliteStatementBatch : StatementBatchContract
{
    protected override async Task<DbConnection> OpenAsync()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(TempDirectory.Create("clearflow-batch"), "batch.db")}");
        await connection.OpenAsync();
        return connection;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresStatementBatch(PostgresServer server) : StatementBatchContract
{
    protected override async Task<DbConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(await server.CreateDatabaseAsync());
        await connection.OpenAsync();
        return connection;
    }
}
