using Clearflow.Storage;
using Clearflow.Storage.Postgres;
using Clearflow.TestSupport;
using Npgsql;
using Xunit;

namespace Clearflow.Storage.Tests;

/// <summary>
/// <see cref="GuardedWrite"/> on a real PostgreSQL: the guarded statements write only when the guard changed its row,
/// the unguarded ones always; NULL parameters take their column's type; shapes it cannot rewrite are refused.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class GuardedWriteTests(PostgresServer server)
{
    private static readonly Statement[] Nothing = [];

    [Fact]
    public async Task Guarded_statements_write_only_when_the_guard_changed_its_row()
    {
        await using var connection = new NpgsqlConnection(await server.CreateDatabaseAsync());
        await connection.OpenAsync();
        await ExecuteAsync(connection, """
            CREATE TABLE items (id TEXT PRIMARY KEY, status TEXT NOT NULL, touched BIGINT NULL);
            CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, item_id TEXT NOT NULL REFERENCES items (id), amount BIGINT NULL, body TEXT NOT NULL, UNIQUE (item_id, body));
            INSERT INTO items VALUES ('a', 'open', NULL), ('b', 'open', NULL);
            """);

        Statement Move(string from, string to) =>
            new("UPDATE items SET status = @to WHERE id = @id AND status = @from", new { id = "a", from, to });
        Statement Note(string body, long? amount) =>
            new("INSERT INTO notes (item_id, amount, body) VALUES (@id, @amount, @body) ON CONFLICT DO NOTHING", new { id = "a", amount, body });
        var touchOther = new Statement("UPDATE items SET touched = @at WHERE id = @id", new { id = "b", at = 7L });
        var always = new Statement("INSERT INTO notes (item_id, amount, body) VALUES (@id, NULL, @body)", new { id = "b", body = "always: it's @body" });

        Assert.True(await RunAsync(connection, Move("open", "closed"), [Note("first", null), Note("second", 5), touchOther], [always]));
        Assert.False(await RunAsync(connection, Move("open", "closed"), [Note("refused", 9), touchOther with { Parameters = new { id = "b", at = 8L } }],
            [always with { Parameters = new { id = "b", body = "always again" } }]));

        Assert.Equal(
            [("b", null, "always: it's @body"), ("a", null, "first"), ("a", 5L, "second"), ("b", null, "always again")],
            await ReadAsync(connection, "SELECT item_id, amount, body FROM notes ORDER BY id", r => (r.GetString(0), r.IsDBNull(1) ? (long?)null : r.GetInt64(1), r.GetString(2))));
        Assert.Equal([7L], await ReadAsync(connection, "SELECT touched FROM items WHERE id = 'b'", r => r.GetInt64(0)));
    }

    [Theory]
    [InlineData("INSERT INTO notes (item_id, body) SELECT @id, @body")]
    [InlineData("INSERT INTO notes (item_id, body) VALUES (@id, @body), (@id, @other)")]
    [InlineData("INSERT INTO notes (item_id, body) VALUES (@id, @body) RETURNING id")]
    [InlineData("UPDATE items SET status = @status WHERE id = @id RETURNING id")]
    [InlineData("UPDATE items SET status = @status")]
    [InlineData("DELETE FROM items WHERE id = @id")]
    public void A_statement_it_cannot_rewrite_is_refused_not_run_unguarded(string sql) =>
        Assert.Throws<NotSupportedException>(() => GuardedWrite.Build(
            new Statement("UPDATE items SET status = 'x' WHERE id = @id", new { id = "a" }), [new Statement(sql, new { id = "a" })], Nothing));

    [Fact]
    public void A_guard_that_returns_rows_of_its_own_is_refused() =>
        Assert.Throws<NotSupportedException>(() => GuardedWrite.Build(
            new Statement("UPDATE items SET status = 'x' WHERE id = @id RETURNING id", new { id = "a" }), Nothing, Nothing));

    private static async Task<bool> RunAsync(NpgsqlConnection connection, Statement guard, Statement[] guarded, Statement[] always)
    {
        var (sql, parameters) = GuardedWrite.Build(guard, guarded, always);
        await using var command = StatementBatch.CreateCommand(connection, null, sql, parameters);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<T>> ReadAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }
        return rows;
    }
}
