using System.Text;

namespace Clearflow.Storage.Postgres;

/// <summary>
/// A write whose first statement decides whether the rest happens, as one PostgreSQL statement (ADR 16): the
/// deciding <c>UPDATE</c> becomes a data-modifying CTE (<c>WITH guard AS (UPDATE ... RETURNING 1)</c>) and every
/// guarded statement reads it, so it writes nothing when the guard matched no row. One round trip and no explicit
/// transaction, where a transaction with the guard, the rest and a COMMIT takes three.
/// <para>
/// The guarded statements are Clearflow's own, in two shapes only: <c>INSERT INTO t (...) VALUES (...) [ON CONFLICT ...]</c>,
/// which becomes <c>INSERT INTO t (...) SELECT ... FROM guard [ON CONFLICT ...]</c>, and <c>UPDATE ... WHERE c</c>
/// (without <c>RETURNING</c>), which becomes <c>UPDATE ... WHERE (c) AND EXISTS (SELECT 1 FROM guard)</c>. A guarded
/// <c>SELECT f(...)</c> (PostgreSQL's <c>pg_notify</c>) becomes a column of the final <c>SELECT ... FROM guard</c>.
/// Anything else is refused, so a new statement shape fails its first test rather than running unguarded.
/// The guard must change at most one row (it is keyed by id): each guarded row is written once per guard row.
/// </para>
/// </summary>
internal static class GuardedWrite
{
    public static (string Sql, List<(string Name, object? Value)> Parameters) Build(Statement guard, IReadOnlyList<Statement> guarded, IReadOnlyList<Statement> always)
    {
        if (!StartsWith(guard.Sql, "UPDATE") || Keywords(guard.Sql, "RETURNING").Count > 0)
        {
            throw new NotSupportedException($"A guard is an UPDATE without RETURNING: {guard.Sql}");
        }
        var sql = new StringBuilder("WITH guard AS (");
        var parameters = new List<(string Name, object? Value)>();
        var position = 0;
        StatementBatch.AppendRenamed(sql, parameters, guard with { Sql = guard.Sql.TrimEnd() + " RETURNING 1" }, position++);
        sql.Append(')');
        var result = new StringBuilder("count(*)");
        // PostgreSQL runs the sub-statements the main query does not read at its end, the last one first (seen on
        // PostgreSQL 15; the order is not documented). Emitting them in reverse gives rows their serial ids in the order
        // the statements were given, as the other stores do; timeline entries and ledger postings are read ORDER BY id.
        // Correctness does not depend on it: each statement writes different rows.
        var parts = always.Select(s => (Statement: s, Guarded: false)).Concat(guarded.Select(s => (Statement: s, Guarded: true))).ToList();
        var guardTable = TableOf(guard.Sql);
        foreach (var (statement, isGuarded) in parts)
        {
            // Every part of one statement reads the rows as they were before it: an UPDATE of the guard's table could
            // meet the row the guard just changed and skip it silently, and an upsert could fail on it. Refused, so
            // nothing that works on SQLite is quietly lost here.
            if ((StartsWith(statement.Sql, "UPDATE") && TableOf(statement.Sql) == guardTable)
                || (Keywords(statement.Sql, "DO").Count > 0 && !statement.Sql.Contains("DO NOTHING", StringComparison.OrdinalIgnoreCase)))
            {
                throw new NotSupportedException($"A guarded write cannot update the guard's table ({guardTable}) or upsert: {statement.Sql}");
            }
            // A sub-statement that only reads is never run unless the final SELECT reads it: only a guarded SELECT is folded in there.
            if (!isGuarded && !(StartsWith(statement.Sql, "INSERT") || StartsWith(statement.Sql, "UPDATE")))
            {
                throw new NotSupportedException($"A statement written either way is an INSERT or an UPDATE: {statement.Sql}");
            }
        }
        for (var i = parts.Count - 1; i >= 0; i--)
        {
            var (statement, isGuarded) = parts[i];
            if (isGuarded && StartsWith(statement.Sql, "SELECT"))
            {
                result.Append(", count(");
                StatementBatch.AppendRenamed(result, parameters, statement with { Sql = statement.Sql.TrimStart()["SELECT".Length..].Trim() }, position++);
                result.Append(')');
                continue;
            }
            sql.Append(",\nw").Append(i).Append(" AS (");
            StatementBatch.AppendRenamed(sql, parameters, isGuarded ? Guard(statement) : statement, position++);
            sql.Append(')');
        }
        sql.Append("\nSELECT ").Append(result).Append(" FROM guard");
        return (sql.ToString(), parameters);
    }

    /// <summary><paramref name="statement"/> rewritten to write only when the guard matched.</summary>
    internal static Statement Guard(Statement statement)
    {
        var sql = statement.Sql.Trim();
        if (StartsWith(sql, "INSERT") && Keywords(sql, "VALUES") is [var values] && Keywords(sql, "SELECT").Count == 0)
        {
            var open = sql.IndexOf('(', values);
            var close = open < 0 ? -1 : MatchingParenthesis(sql, open);
            if (close < 0)
            {
                throw new NotSupportedException($"An INSERT without a VALUES list: {statement.Sql}");
            }
            var rest = sql[(close + 1)..];
            if (sql[(values + "VALUES".Length)..open].Trim().Length == 0 && !rest.TrimStart().StartsWith(',') && Keywords(rest, "RETURNING").Count == 0)
            {
                return statement with { Sql = $"{sql[..values]}SELECT {sql[(open + 1)..close]} FROM guard{rest}" };
            }
        }
        if (StartsWith(sql, "UPDATE") && Keywords(sql, "WHERE") is [var where] && Keywords(sql, "RETURNING").Count == 0 && Keywords(sql, "SELECT").Count == 0)
        {
            return statement with { Sql = $"{sql[..where]}WHERE ({sql[(where + "WHERE".Length)..].Trim()}) AND EXISTS (SELECT 1 FROM guard)" };
        }
        throw new NotSupportedException($"Only a single-row INSERT ... VALUES or an UPDATE ... WHERE without RETURNING can be guarded: {statement.Sql}");
    }

    /// <summary>The table an <c>UPDATE t</c> or <c>INSERT INTO t</c> names.</summary>
    private static string TableOf(string sql)
    {
        var words = sql.Split((char[]?)null, 4, StringSplitOptions.RemoveEmptyEntries);
        return (words.Length > 2 && words[0].Equals("INSERT", StringComparison.OrdinalIgnoreCase) ? words[2] : words.Length > 1 ? words[1] : "").ToLowerInvariant();
    }

    private static bool StartsWith(string sql, string keyword) =>
        sql.TrimStart().StartsWith(keyword + " ", StringComparison.OrdinalIgnoreCase) || sql.TrimStart().StartsWith(keyword + "\n", StringComparison.OrdinalIgnoreCase);

    /// <summary>Where <paramref name="keyword"/> stands as a word outside <c>'...'</c> literals.</summary>
    private static List<int> Keywords(string sql, string keyword)
    {
        var found = new List<int>();
        var quoted = false;
        for (var i = 0; i < sql.Length; i++)
        {
            if (sql[i] == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && string.Compare(sql, i, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) == 0
                && (i == 0 || !IsWordCharacter(sql[i - 1])) && (i + keyword.Length == sql.Length || !IsWordCharacter(sql[i + keyword.Length])))
            {
                found.Add(i);
            }
        }
        return found;
    }

    private static bool IsWordCharacter(char c) => char.IsLetterOrDigit(c) || c is '_' or '@';

    private static int MatchingParenthesis(string sql, int open)
    {
        var depth = 0;
        var quoted = false;
        for (var i = open; i < sql.Length; i++)
        {
            switch (sql[i])
            {
                case '\'':
                    quoted = !quoted;
                    break;
                case '(' when !quoted:
                    depth++;
                    break;
                case ')' when !quoted && --depth == 0:
                    return i;
            }
        }
        throw new NotSupportedException($"Unbalanced parentheses: {sql}");
    }
}
