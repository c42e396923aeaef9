using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using Npgsql;

namespace Clearflow.Storage.Postgres;

/// <summary>
/// Clearflow's <c>@name</c> SQL in PostgreSQL's own positional form (<c>$1</c>, <c>$2</c>, ...) with unnamed parameters,
/// which Npgsql sends as it is instead of parsing and rewriting the text on every call (its "raw" mode). The form is
/// worked out once per SQL text and kept; a profile of the benchmark had about half the server's allocations in
/// building and re-parsing batch texts (ADR 16). The same rules as <see cref="StatementBatch"/>: parameters as
/// <see cref="SqlParameterNames"/> finds them; a name used twice is one parameter; values only, a NULL goes out untyped.
/// </summary>
internal static class PositionalSql
{
    /// <summary>
    /// A text's positional form: the pieces of text around its parameters, which name each gap between two pieces takes
    /// (its index in <see cref="Names"/>, the names in order of first use), and the whole form numbered from <c>$1</c>.
    /// </summary>
    private sealed record Form(string Sql, string[] Pieces, int[] Slots, string[] Names);

    private static readonly BoundedCache<string, Form> Forms = new(10_000, StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(Type, string), PropertyInfo[]> Readers = new();

    /// <summary>A batch command for <paramref name="statement"/>, its parameter values read from its anonymous object.</summary>
    public static NpgsqlBatchCommand Command(Statement statement)
    {
        var form = FormOf(statement.Sql);
        var command = new NpgsqlBatchCommand(form.Sql);
        foreach (var reader in ReadersOf(form, statement.Sql, statement.Parameters))
        {
            command.Parameters.Add(Unnamed(reader.GetValue(statement.Parameters)));
        }
        return command;
    }

    /// <summary>A command for positional SQL built with <see cref="Append"/>, with its values in order.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, IReadOnlyList<object?> values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(Unnamed(value));
        }
        return command;
    }

    /// <summary>
    /// Appends <paramref name="named"/>'s positional form to <paramref name="sql"/>, numbered after <paramref name="offset"/>
    /// earlier values: for one statement built of several (<see cref="GuardedWrite"/>). Returns how many values it takes.
    /// </summary>
    public static int Append(StringBuilder sql, int offset, string named)
    {
        var form = FormOf(named);
        for (var i = 0; i < form.Slots.Length; i++)
        {
            sql.Append(form.Pieces[i]).Append('$').Append(offset + form.Slots[i] + 1);
        }
        sql.Append(form.Pieces[^1]);
        return form.Names.Length;
    }

    /// <summary>Appends the values <paramref name="named"/>'s positional form takes, read from <paramref name="parameters"/>, to <paramref name="values"/>.</summary>
    public static void AppendValues(List<object?> values, string named, object parameters)
    {
        foreach (var reader in ReadersOf(FormOf(named), named, parameters))
        {
            values.Add(reader.GetValue(parameters));
        }
    }

    private static NpgsqlParameter Unnamed(object? value) => new() { Value = value ?? DBNull.Value };

    private static PropertyInfo[] ReadersOf(Form form, string named, object parameters) =>
        Readers.GetOrAdd((parameters.GetType(), named), key => [.. form.Names.Select(name =>
            key.Item1.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
            ?? throw new InvalidOperationException($"The SQL names @{name}, which its parameters do not have: {key.Item2}"))]);

    private static Form FormOf(string named) => Forms.Get(named, Convert);

    private static Form Convert(string named)
    {
        var pieces = new List<string>();
        var slots = new List<int>();
        var names = new List<string>();
        var done = 0;
        foreach (var (at, length) in SqlParameterNames.Find(named))
        {
            pieces.Add(named[done..at]);
            var name = named.Substring(at + 1, length - 1);
            var slot = names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            if (slot < 0)
            {
                names.Add(name);
                slot = names.Count - 1;
            }
            slots.Add(slot);
            done = at + length;
        }
        pieces.Add(named[done..]);
        var sql = new StringBuilder(named.Length);
        for (var i = 0; i < slots.Count; i++)
        {
            sql.Append(pieces[i]).Append('$').Append(slots[i] + 1);
        }
        sql.Append(pieces[^1]);
        return new Form(sql.ToString(), [.. pieces], [.. slots], [.. names]);
    }
}
