using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using Npgsql;

namespace Clearflow.Storage.Postgres;

/// <summary>
/// Clearflow's <c>@name</c> SQL in PostgreSQL's own positional form (<c>$1</c>, <c>$2</c>, ...) with unnamed parameters,
/// which Npgsql sends as it is instead of parsing and rewriting the text on every call (its "raw" mode). The form is
/// worked out once per SQL text and kept; a profile of the benchmark had about half the server's allocations in
/// building and re-parsing batch texts (ADR 16). The same rules as <see cref="StatementBatch"/>: an <c>@</c> inside a
/// <c>'...'</c> literal is text; a name used twice is one parameter; values only, a NULL goes out untyped.
/// </summary>
internal static class PositionalSql
{
    private static readonly ConcurrentDictionary<string, (string Sql, string[] Names)> Forms = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(Type, string), PropertyInfo[]> Readers = new();

    /// <summary>A batch command for <paramref name="statement"/>, its parameter values read from its anonymous object.</summary>
    public static NpgsqlBatchCommand Command(Statement statement)
    {
        var (sql, names) = FormOf(statement.Sql);
        var command = new NpgsqlBatchCommand(sql);
        var readers = Readers.GetOrAdd((statement.Parameters.GetType(), statement.Sql), key => [.. names.Select(name =>
            key.Item1.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
            ?? throw new InvalidOperationException($"The SQL names @{name}, which its parameters do not have: {key.Item2}"))]);
        foreach (var reader in readers)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = reader.GetValue(statement.Parameters) ?? DBNull.Value });
        }
        return command;
    }

    /// <summary>A command for SQL built with named parameters (<see cref="GuardedWrite"/>), given as name and value.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, string namedSql, IReadOnlyList<(string Name, object? Value)> parameters)
    {
        var (sql, names) = FormOf(namedSql);
        var command = new NpgsqlCommand(sql, connection);
        foreach (var name in names)
        {
            var value = parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            if (value.Name is null)
            {
                throw new InvalidOperationException($"The SQL names @{name}, which its parameters do not have: {namedSql}");
            }
            command.Parameters.Add(new NpgsqlParameter { Value = value.Value ?? DBNull.Value });
        }
        return command;
    }

    /// <summary>Kept per text; Clearflow's texts are a few hundred shapes, the bound only guards against a future caller that builds texts freely.</summary>
    private static (string Sql, string[] Names) FormOf(string named) =>
        Forms.TryGetValue(named, out var form) ? form : Forms.Count < 10_000 ? Forms.GetOrAdd(named, Convert) : Convert(named);

    private static (string Sql, string[] Names) Convert(string named)
    {
        var sql = new StringBuilder(named.Length);
        var names = new List<string>();
        var quoted = false;
        for (var i = 0; i < named.Length; i++)
        {
            var c = named[i];
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (c == '@' && !quoted && i + 1 < named.Length && (char.IsLetter(named[i + 1]) || named[i + 1] == '_'))
            {
                var start = i + 1;
                while (i + 1 < named.Length && (char.IsLetterOrDigit(named[i + 1]) || named[i + 1] == '_'))
                {
                    i++;
                }
                var name = named[start..(i + 1)];
                var position = names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
                if (position < 0)
                {
                    names.Add(name);
                    position = names.Count - 1;
                }
                sql.Append('$').Append(position + 1);
                continue;
            }
            sql.Append(c);
        }
        return (sql.ToString(), [.. names]);
    }
}
