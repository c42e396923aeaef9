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
/// on PostgreSQL instead of one per statement (ADR 12). Each statement's parameters are renamed with its
/// position (<c>@orderId</c> becomes <c>@orderId_3</c>) so statements cannot see each other's values.
/// For Clearflow's own statements only: parameters must be plain values (string, number, bytes) in
/// <c>VALUES</c>, <c>SET</c> or <c>COALESCE</c> positions, where PostgreSQL takes a NULL's type from the column
/// or the other argument (a NULL goes out untyped, so <c>@p IS NULL</c> would not do). An <c>@</c> inside a
/// <c>'...'</c> literal is text, not a parameter, and is left as it is.
/// </summary>
public sealed class StatementBatch
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> PropertiesOf = new();

    private readonly StringBuilder _sql = new();
    private readonly List<(string Name, object? Value)> _parameters = [];

    public int Count { get; private set; }

    public void Add(Statement statement)
    {
        AppendRenamed(_sql, _parameters, statement, Count++);
        _sql.Append(";\n");
    }

    /// <summary>Runs the statements (if any) in <paramref name="transaction"/> and empties the batch.</summary>
    public async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        if (Count == 0)
        {
            return;
        }
        // A plain command, not Dapper: values only (the provider infers their types from the values and the
        // columns), which also spares Npgsql a type lookup per parameter that Dapper's DbType handling costs.
        await using var command = CreateCommand(connection, transaction, _sql.ToString(), _parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
        _sql.Clear();
        _parameters.Clear();
        Count = 0;
    }

    /// <summary>A plain command with <paramref name="parameters"/> as values only (see <see cref="ExecuteAsync"/>).</summary>
    internal static DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction, string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>
    /// Appends <paramref name="statement"/>'s SQL to <paramref name="sql"/> and its parameters to <paramref name="parameters"/>,
    /// every name followed by <c>_</c><paramref name="position"/>.
    /// </summary>
    internal static void AppendRenamed(StringBuilder sql, List<(string Name, object? Value)> parameters, Statement statement, int position)
    {
        var suffix = "_" + position.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var property in PropertiesOf.GetOrAdd(statement.Parameters.GetType(), t => t.GetProperties()))
        {
            parameters.Add((property.Name + suffix, property.GetValue(statement.Parameters)));
        }
        AppendRenamed(sql, statement.Sql, suffix);
    }

    /// <summary>
    /// Appends <paramref name="source"/> to <paramref name="sql"/> with every parameter name (<c>@</c> and word characters)
    /// outside a <c>'...'</c> literal followed by <paramref name="suffix"/>. A doubled quote inside a literal toggles twice: still inside.
    /// </summary>
    private static void AppendRenamed(StringBuilder sql, string source, string suffix)
    {
        var quoted = false;
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            sql.Append(c);
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (c == '@' && !quoted)
            {
                var start = i;
                while (i + 1 < source.Length && (char.IsLetterOrDigit(source[i + 1]) || source[i + 1] == '_'))
                {
                    sql.Append(source[++i]);
                }
                if (i > start)
                {
                    sql.Append(suffix);
                }
            }
        }
    }
}
