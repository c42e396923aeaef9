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
    /// <summary>
    /// What a statement's text is, as far as a guarded write cares, worked out once per text: its kind and table, whether
    /// it returns rows or upserts, and its forms as the guard (<see cref="AsGuard"/>), as a guarded statement
    /// (<see cref="Guarded"/>, null when it cannot be guarded) and as a column of the final SELECT (<see cref="Expression"/>).
    /// </summary>
    private sealed record Shape(string Kind, string Table, bool Upserts, string? AsGuard, string? Guarded, string? Expression);

    private static readonly BoundedCache<string, Shape> Shapes = new(10_000, StringComparer.Ordinal);

    /// <summary>
    /// The statement built for one combination of texts, kept: its positional text, and for each statement in the order its
    /// values go in, the form it was written in (<see cref="Texts"/>) and where it is among the given statements
    /// (<see cref="Sources"/>: 0 the guard, then the always-written ones, then the guarded ones).
    /// </summary>
    private sealed record Plan(string Sql, string[] Texts, int[] Sources);

    /// <summary>The texts of a write's statements (guard, always-written, guarded) and where the guarded ones start.</summary>
    private sealed class PlanKey(string[] texts, int guardedFrom) : IEquatable<PlanKey>
    {
        public string[] Texts { get; } = texts;

        public int GuardedFrom { get; } = guardedFrom;

        public bool Equals(PlanKey? other) =>
            other is not null && other.GuardedFrom == GuardedFrom && other.Texts.AsSpan().SequenceEqual(Texts, StringComparer.Ordinal);

        public override bool Equals(object? obj) => Equals(obj as PlanKey);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(GuardedFrom);
            foreach (var text in Texts)
            {
                hash.Add(text, StringComparer.Ordinal);
            }
            return hash.ToHashCode();
        }
    }

    private static readonly BoundedCache<PlanKey, Plan> Plans = new(10_000);

    /// <returns>The statement in positional form (<see cref="PositionalSql"/>) and its values in order.</returns>
    public static (string Sql, List<object?> Values) Build(Statement guard, IReadOnlyList<Statement> guarded, IReadOnlyList<Statement> always)
    {
        var statements = new Statement[1 + always.Count + guarded.Count];
        statements[0] = guard;
        for (var i = 0; i < always.Count; i++)
        {
            statements[1 + i] = always[i];
        }
        for (var i = 0; i < guarded.Count; i++)
        {
            statements[1 + always.Count + i] = guarded[i];
        }
        var key = new PlanKey([.. statements.Select(s => s.Sql)], 1 + always.Count);
        var plan = Plans.Get(key, PlanOf); // the payment path has a handful of combinations
        var values = new List<object?>();
        for (var i = 0; i < plan.Sources.Length; i++)
        {
            PositionalSql.AppendValues(values, plan.Texts[i], statements[plan.Sources[i]].Parameters);
        }
        return (plan.Sql, values);
    }

    private static Plan PlanOf(PlanKey key)
    {
        var guardText = key.Texts[0];
        var guardShape = ShapeOf(guardText);
        if (guardShape.AsGuard is null)
        {
            throw new NotSupportedException($"A guard is an UPDATE without RETURNING: {guardText}");
        }
        for (var i = 1; i < key.Texts.Length; i++)
        {
            var (text, isGuarded, shape) = (key.Texts[i], i >= key.GuardedFrom, ShapeOf(key.Texts[i]));
            // Every part of one statement reads the rows as they were before it: an UPDATE of the guard's table could
            // meet the row the guard just changed and skip it silently, and an upsert could fail on it. Refused, so
            // nothing that works on SQLite is quietly lost here.
            if ((shape.Kind == "UPDATE" && shape.Table == guardShape.Table) || shape.Upserts)
            {
                throw new NotSupportedException($"A guarded write cannot update the guard's table ({guardShape.Table}) or upsert: {text}");
            }
            // A sub-statement that only reads is never run unless the final SELECT reads it: only a guarded SELECT is folded in there.
            if (!isGuarded && shape.Kind is not ("INSERT" or "UPDATE"))
            {
                throw new NotSupportedException($"A statement written either way is an INSERT or an UPDATE: {text}");
            }
            if (isGuarded && shape.Guarded is null && shape.Expression is null)
            {
                throw new NotSupportedException($"Only a single-row INSERT ... VALUES or an UPDATE ... WHERE without RETURNING can be guarded: {text}");
            }
        }
        var texts = new List<string>();
        var sources = new List<int>();
        var sql = new StringBuilder("WITH guard AS (");
        var count = PositionalSql.Append(sql, 0, guardShape.AsGuard);
        texts.Add(guardShape.AsGuard);
        sources.Add(0);
        sql.Append(')');
        var result = new StringBuilder("count(*)");
        // PostgreSQL runs the sub-statements the main query does not read at its end, the last one first (seen on
        // PostgreSQL 15; the order is not documented). Emitting them in reverse gives rows their serial ids in the order
        // the statements were given, as the other stores do; timeline entries and ledger postings are read ORDER BY id.
        // Correctness does not depend on it: each statement writes different rows.
        for (var i = key.Texts.Length - 1; i >= 1; i--)
        {
            var (text, isGuarded, shape) = (key.Texts[i], i >= key.GuardedFrom, ShapeOf(key.Texts[i]));
            string written;
            if (isGuarded && shape.Expression is { } expression)
            {
                result.Append(", count(");
                count += PositionalSql.Append(result, count, written = expression);
                result.Append(')');
            }
            else
            {
                sql.Append(",\nw").Append(i).Append(" AS (");
                count += PositionalSql.Append(sql, count, written = isGuarded ? shape.Guarded! : text);
                sql.Append(')');
            }
            texts.Add(written);
            sources.Add(i);
        }
        sql.Append("\nSELECT ").Append(result).Append(" FROM guard");
        return new Plan(sql.ToString(), [.. texts], [.. sources]);
    }

    private static Shape ShapeOf(string sql) => Shapes.Get(sql, Read);

    private static Shape Read(string text)
    {
        var sql = text.Trim();
        var words = sql.Split((char[]?)null, 4, StringSplitOptions.RemoveEmptyEntries);
        var kind = words.Length > 0 ? words[0].ToUpperInvariant() : "";
        var table = (kind == "INSERT" ? words.ElementAtOrDefault(2) : words.ElementAtOrDefault(1))?.ToLowerInvariant() ?? "";
        var returns = Keywords(sql, "RETURNING").Count > 0;
        var upserts = Keywords(sql, "DO").Count > 0 && !sql.Contains("DO NOTHING", StringComparison.OrdinalIgnoreCase);
        return new Shape(kind, table, upserts,
            AsGuard: kind == "UPDATE" && !returns ? sql + " RETURNING 1" : null,
            Guarded: returns ? null : GuardedForm(sql, kind),
            Expression: kind == "SELECT" ? sql["SELECT".Length..].Trim() : null);
    }

    /// <summary>
    /// <paramref name="sql"/> rewritten to write only when the guard matched: <c>INSERT ... VALUES (v)</c> as
    /// <c>INSERT ... SELECT v FROM guard</c>, <c>UPDATE ... WHERE c</c> with <c>AND EXISTS (SELECT 1 FROM guard)</c>;
    /// null for any other shape.
    /// </summary>
    private static string? GuardedForm(string sql, string kind)
    {
        if (kind == "INSERT" && Keywords(sql, "VALUES") is [var values] && Keywords(sql, "SELECT").Count == 0)
        {
            var open = sql.IndexOf('(', values);
            var close = open < 0 ? -1 : MatchingParenthesis(sql, open);
            if (close < 0 || sql[(values + "VALUES".Length)..open].Trim().Length != 0)
            {
                return null;
            }
            var rest = sql[(close + 1)..];
            return rest.TrimStart().StartsWith(',') ? null : $"{sql[..values]}SELECT {sql[(open + 1)..close]} FROM guard{rest}";
        }
        if (kind == "UPDATE" && Keywords(sql, "WHERE") is [var where] && Keywords(sql, "SELECT").Count == 0)
        {
            return $"{sql[..where]}WHERE ({sql[(where + "WHERE".Length)..].Trim()}) AND EXISTS (SELECT 1 FROM guard)";
        }
        return null;
    }

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
        return -1;
    }
}
