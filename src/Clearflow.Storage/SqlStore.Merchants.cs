using System.Collections.Concurrent;
using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string MerchantColumns = "id, name, settings, created_at";

    private sealed class MerchantRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string Settings { get; set; } = "";
        public long CreatedAt { get; set; }

        public MerchantRecord ToRecord() => new(Id, Name, Settings, At(CreatedAt));
    }

    private sealed class ApiKeyRow
    {
        public string Id { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string KeyHash { get; set; } = "";
        public string KeyPrefix { get; set; } = "";
        public string Mode { get; set; } = "";
        public long CreatedAt { get; set; }
        public long? RevokedAt { get; set; }

        public ApiKeyRecord ToRecord() => new(Id, MerchantId, KeyHash, KeyPrefix, Mode, At(CreatedAt), At(RevokedAt));
    }

    public Task<bool> CreateMerchantAsync(MerchantRecord merchant, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            "INSERT INTO merchants (id, name, settings, created_at) VALUES (@Id, @Name, @SettingsJson, @createdAt) ON CONFLICT DO NOTHING",
            new { merchant.Id, merchant.Name, merchant.SettingsJson, createdAt = Ms(merchant.CreatedAt) }, transaction, cancellationToken)) == 1, cancellationToken);

    /// <summary>
    /// How long this process reuses a merchant row. The row is read for every order, task and notification and
    /// changes rarely; a change made through this process is seen at once, one made on another node within
    /// this time (ADR 12).
    /// </summary>
    public static readonly TimeSpan MerchantCacheTime = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (MerchantRecord Merchant, long Until)> _merchants = new(StringComparer.Ordinal);

    /// <summary>Bumped by every change: a read that started before a change must not cache what it read.</summary>
    private long _merchantChanges;

    public async Task<MerchantRecord?> GetMerchantAsync(string merchantId, CancellationToken cancellationToken)
    {
        if (_merchants.TryGetValue(merchantId, out var cached) && cached.Until > Environment.TickCount64)
        {
            return cached.Merchant;
        }
        var changesBefore = Interlocked.Read(ref _merchantChanges);
        var merchant = await GetMerchantUncachedAsync(merchantId, cancellationToken);
        if (merchant is not null && Interlocked.Read(ref _merchantChanges) == changesBefore)
        {
            var entry = (merchant, Environment.TickCount64 + (long)MerchantCacheTime.TotalMilliseconds);
            _merchants[merchantId] = entry;
            if (Interlocked.Read(ref _merchantChanges) != changesBefore)
            {
                // A change landed between the check and the store: take back exactly what this read put there.
                _merchants.TryRemove(KeyValuePair.Create(merchantId, entry));
            }
        }
        return merchant;
    }

    public Task<MerchantRecord?> GetMerchantUncachedAsync(string merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<MerchantRow>(Command(
            $"SELECT {MerchantColumns} FROM merchants WHERE id = @merchantId", new { merchantId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    private void ForgetMerchant(string merchantId)
    {
        Interlocked.Increment(ref _merchantChanges);
        _merchants.TryRemove(merchantId, out _);
    }

    public Task<MerchantRecord?> FindMerchantByNameAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<MerchantRow>(Command(
            $"SELECT {MerchantColumns} FROM merchants WHERE name = @name", new { name }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<MerchantRecord>> ListMerchantsAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<MerchantRecord>)[.. (await connection.QueryAsync<MerchantRow>(Command(
            $"SELECT {MerchantColumns} FROM merchants ORDER BY created_at, id", null, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public async Task UpdateMerchantSettingsAsync(string merchantId, string settingsJson, CancellationToken cancellationToken)
    {
        ForgetMerchant(merchantId);
        await WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            "UPDATE merchants SET settings = @settingsJson WHERE id = @merchantId", new { merchantId, settingsJson }, transaction, cancellationToken)), cancellationToken);
        ForgetMerchant(merchantId);
    }

    public Task<bool> AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            """
            INSERT INTO api_keys (id, merchant_id, key_hash, key_prefix, mode, created_at, revoked_at)
            VALUES (@Id, @MerchantId, @KeyHash, @KeyPrefix, @Mode, @createdAt, NULL)
            ON CONFLICT DO NOTHING
            """,
            new { key.Id, key.MerchantId, key.KeyHash, key.KeyPrefix, key.Mode, createdAt = Ms(key.CreatedAt) }, transaction, cancellationToken)) == 1, cancellationToken);

    public Task<ApiKeyRecord?> FindApiKeyByHashAsync(string keyHash, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<ApiKeyRow>(Command(
            "SELECT id, merchant_id, key_hash, key_prefix, mode, created_at, revoked_at FROM api_keys WHERE key_hash = @keyHash",
            new { keyHash }, null, cancellationToken)))?.ToRecord(), cancellationToken);
}
