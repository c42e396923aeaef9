using System.Collections.Concurrent;
using System.Data.Common;
using System.Reflection;
using System.Text;

namespace Clearflow.Storage;

/// <summary>One SQL statement with its parameters (an anonymous object), not yet run.</summary>
public readonly record struct Statement(string Sql, object Parameters);

/// <summary>
/// The statements of one transaction whose results nobody reads (timeline entries, outbox messages, ledger
/// postings, tasks, step records), sent as one command when the transaction's work is done: one round trip
/// on PostgreSQL instead of one per statement (ADR 12). PostgreSQL gets them as one Npgsql batch, each statement in
/// positional form (<see cref="Postgres.PositionalSql"/>); SQLite as one text in which each statement's parameters are
/// renamed with its position (<c>@orderId</c> becomes <c>@orderId_3</c>) so statements cannot see each other's values.
/// For Clearflow's own statements only: parameters must be plain values (string, number, bytes) in
/// <c>VALUES</c>, <c>SET</c> or <c>COALESCE</c> positions, where PostgreSQL takes a NULL's type from the column
/// or the other argument (a NULL goes out untyped, so <c>@p IS NULL</c> would not do). An <c>@</c> inside a
/// <c>'...'</c> literal is text, not a parameter, and is left as it is.
/// </summary>
public sealed class StatementBatch
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> PropertiesOf = new();

    private readonly List<Statement> _statements = [];

    public int Count => _statements.Count;

    public void Add(Statement statement) => _statements.Add(statement);

    /// <summary>Runs the statements (if any) in <paramref name="transaction"/> and empties the batch.</summary>
    public async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        if (Count == 0)
        {
            return;
        }
        if (connection is Npgsql.NpgsqlConnection npgsql)
        {
            // PostgreSQL: one batch of positional statements (one round trip, one implicit transaction without an explicit
            // one), which Npgsql sends without parsing them (Postgres.PositionalSql).
            await using var batch = new Npgsql.NpgsqlBatch(npgsql, (Npgsql.NpgsqlTransaction?)transaction);
            foreach (var statement in _statements)
            {
                batch.BatchCommands.Add(Postgres.PositionalSql.Command(statement));
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            // A plain command, not Dapper: values only (the provider infers their types from the values and the columns).
            var sql = new StringBuilder();
            var parameters = new List<(string Name, object? Value)>();
            for (var i = 0; i < _statements.Count; i++)
            {
                AppendRenamed(sql, parameters, _statements[i], i);
                sql.Append(";\n");
            }
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql.ToString();
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        _statements.Clear();
    }

    /// <summary>
    /// Appends <paramref name="statement"/>'s SQL to <paramref name="sql"/> with every parameter name followed by
    /// <c>_</c><paramref name="position"/>, and its parameters so named to <paramref name="parameters"/>.
    /// </summary>
    private static void AppendRenamed(StringBuilder sql, List<(string Name, object? Value)> parameters, Statement statement, int position)
    {
        var suffix = "_" + position.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var property in PropertiesOf.GetOrAdd(statement.Parameters.GetType(), t => t.GetProperties()))
        {
            parameters.Add((property.Name + suffix, property.GetValue(statement.Parameters)));
        }
        var done = 0;
        foreach (var (at, length) in SqlParameterNames.Find(statement.Sql))
        {
            sql.Append(statement.Sql, done, at + length - done).Append(suffix);
            done = at + length;
        }
        sql.Append(statement.Sql, done, statement.Sql.Length - done);
    }
}
