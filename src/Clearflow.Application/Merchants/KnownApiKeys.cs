using System.Collections.Concurrent;
using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Merchants;

/// <summary>
/// API keys this process has seen valid, by hash: whose they are and their mode, which never change. Not whether they
/// are still valid: a request that takes its identity from here must check the key in the same command as its write
/// (ADR 22). One per process; bounded, since keys are few and a flood of made-up keys never gets in.
/// </summary>
public sealed class KnownApiKeys
{
    private const int Limit = 10_000;

    private readonly ConcurrentDictionary<string, ApiKeyRecord> _byHash = new(StringComparer.Ordinal);

    public ApiKeyRecord? Find(string keyHash) => _byHash.GetValueOrDefault(keyHash);

    /// <summary>Called on every read of a valid key, so a key already known costs one lookup and no write.</summary>
    public void Remember(ApiKeyRecord key)
    {
        if (_byHash.ContainsKey(key.KeyHash))
        {
            return;
        }
        if (_byHash.Count >= Limit) // Count takes every lock of the dictionary: only on the rare first sight of a key
        {
            _byHash.Clear(); // far more keys than any deployment has: start again rather than track ages
        }
        _byHash.TryAdd(key.KeyHash, key);
    }

    public void Forget(string keyHash) => _byHash.TryRemove(keyHash, out _);
}
