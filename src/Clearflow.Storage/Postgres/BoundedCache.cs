using System.Collections.Concurrent;

namespace Clearflow.Storage.Postgres;

/// <summary>
/// Values worked out once per key and kept, up to <paramref name="limit"/> keys: Clearflow's SQL texts and their
/// combinations are a few hundred, and the bound only guards against a future caller that builds texts freely (past
/// it, a value is worked out each time, not kept).
/// </summary>
internal sealed class BoundedCache<TKey, TValue>(int limit, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _kept = new(comparer);

    public TValue Get(TKey key, Func<TKey, TValue> make) =>
        _kept.TryGetValue(key, out var value) ? value : _kept.Count < limit ? _kept.GetOrAdd(key, make) : make(key);
}
