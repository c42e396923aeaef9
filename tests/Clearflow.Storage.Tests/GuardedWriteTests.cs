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
            CREATE TABLE items (id TEXT PRIMARY KEY, status TEXT NOT NULL);
            CREATE TABLE counters (id TEXT PRIMARY KEY, touched BIGINT NULL);
            CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, item_id TEXT NOT NULL REFERENCES items (id), amount BIGINT NULL, body TEXT NOT NULL, UNIQUE (item_id, body));
            INSERT INTO items VALUES ('a', 'open'), ('b', 'open');
            INSERT INTO counters VALUES ('c', NULL);
            LISTEN guarded_test;
            """);
        var heard = new List<string>();
        connection.Notification += (_, e) => heard.Add(e.Payload);

        Statement Move(string from, string to) =>
            new("UPDATE items SET status = @to WHERE id = @id AND status = @from", new { id = "a", from, to });
        Statement Note(string body, long? amount) =>
            new("INSERT INTO notes (item_id, amount, body) VALUES (@id, @amount, @body) ON CONFLICT DO NOTHING", new { id = "a", amount, body });
        Statement Touch(long at) => new("UPDATE counters SET touched = @at WHERE id = @id", new { id = "c", at });
        Statement Announce(string payload) => new("SELECT pg_notify(@channel, @payload)", new { channel = "guarded_test", payload });
        // A quote and an '@' inside a literal of the SQL itself: text, not a parameter, after the rewrite too.
        var literal = new Statement("INSERT INTO notes (item_id, amount, body) VALUES (@id, NULL, 'it''s @body, (really)')", new { id = "a" });
        Statement Always(string body) => new("INSERT INTO notes (item_id, amount, body) VALUES (@id, NULL, @body)", new { id = "b", body });

        Assert.True(await RunAsync(connection, Move("open", "closed"), [Note("first", null), Note("second", 5), literal, Touch(7), Announce("moved")], [Always("always")]));
        Assert.False(await RunAsync(connection, Move("open", "closed"), [Note("refused", 9), Touch(8), Announce("refused")], [Always("always again")]));
        await ExecuteAsync(connection, "SELECT 1"); // reads any notification still on its way

        Assert.Equal(
            [("b", null, "always"), ("a", null, "first"), ("a", 5L, "second"), ("a", null, "it's @body, (really)"), ("b", null, "always again")],
            await ReadAsync(connection, "SELECT item_id, amount, body FROM notes ORDER BY id", r => (r.GetString(0), r.IsDBNull(1) ? (long?)null : r.GetInt64(1), r.GetString(2))));
        Assert.Equal([7L], await ReadAsync(connection, "SELECT touched FROM counters", r => r.GetInt64(0)));
        Assert.Equal(["moved"], heard);
    }

    [Theory]
    [InlineData("INSERT INTO notes (item_id, body) SELECT @id, @body")]
    [InlineData("INSERT INTO notes (item_id, body) VALUES (@id, @body), (@id, @other)")]
    [InlineData("INSERT INTO notes (item_id, body) VALUES (@id, @body) RETURNING id")]
    [InlineData("UPDATE items SET status = @status WHERE id = @id RETURNING id")]
    [InlineData("UPDATE items SET status = @status")]
    [InlineData("DELETE FROM items WHERE id = @id")]
    // The guard's own table: every part of the statement sees the rows as they were, so this could skip the guard's row.
    [InlineData("UPDATE items SET status = @status WHERE id = @other")]
    [InlineData("INSERT INTO notes (item_id, body) VALUES (@id, @body) ON CONFLICT (item_id, body) DO UPDATE SET amount = 1")]
    public void A_statement_it_cannot_rewrite_is_refused_not_run_unguarded(string sql) =>
        Assert.Throws<NotSupportedException>(() => GuardedWrite.Build(
            new Statement("UPDATE items SET status = 'x' WHERE id = @id", new { id = "a" }), [new Statement(sql, new { id = "a" })], Nothing));

    [Theory]
    [InlineData("SELECT pg_notify(@channel, @id)")] // a CTE nobody reads is never run: it would be lost
    [InlineData("UPDATE items SET status = @status WHERE id = @other")]
    public void A_statement_written_either_way_is_refused_unless_it_is_run(string sql) =>
        Assert.Throws<NotSupportedException>(() => GuardedWrite.Build(
            new Statement("UPDATE items SET status = 'x' WHERE id = @id", new { id = "a" }), Nothing, [new Statement(sql, new { id = "a" })]));

    [Fact]
    public void A_guard_that_returns_rows_of_its_own_is_refused() =>
        Assert.Throws<NotSupportedException>(() => GuardedWrite.Build(
            new Statement("UPDATE items SET status = 'x' WHERE id = @id RETURNING id", new { id = "a" }), Nothing, Nothing));

    private static async Task<bool> RunAsync(NpgsqlConnection connection, Statement guard, Statement[] guarded, Statement[] always)
    {
        var (sql, values) = GuardedWrite.Build(guard, guarded, always);
        await using var command = PositionalSql.Command(connection, sql, values);
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
