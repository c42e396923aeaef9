namespace Clearflow.Storage;

/// <summary>
/// Where Clearflow's <c>@name</c> parameters stand in a SQL text: an <c>@</c>, then a letter or <c>_</c>, then letters, digits
/// and <c>_</c>, outside <c>'...'</c> literals (a doubled quote inside a literal toggles twice: still inside). The one reading
/// of a text's parameters, for SQLite's renamed batches (<see cref="StatementBatch"/>) and PostgreSQL's positional form
/// (<see cref="Postgres.PositionalSql"/>).
/// </summary>
internal static class SqlParameterNames
{
    /// <summary>Each parameter's position: where its <c>@</c> is, and its length with the <c>@</c>.</summary>
    public static List<(int At, int Length)> Find(string sql)
    {
        var found = new List<(int At, int Length)>();
        var quoted = false;
        for (var i = 0; i < sql.Length; i++)
        {
            var c = sql[i];
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (c == '@' && !quoted && i + 1 < sql.Length && (char.IsLetter(sql[i + 1]) || sql[i + 1] == '_'))
            {
                var end = i + 1;
                while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
                {
                    end++;
                }
                found.Add((i, end - i));
                i = end - 1;
            }
        }
        return found;
    }
}
