namespace Clearflow.Server.Http;

public static class QueryParameters
{
    /// <summary>The query string as name to value; a repeated name's values are joined with commas (<c>status=a&amp;status=b</c> = <c>status=a,b</c>).</summary>
    public static IReadOnlyDictionary<string, string> Flatten(this IQueryCollection query, params string[] except)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.Where(p => !except.Contains(p.Key, StringComparer.Ordinal))
            .ToDictionary(p => p.Key, p => string.Join(',', p.Value.Where(v => v is not null)), StringComparer.Ordinal);
    }
}
