namespace Clearflow.Application.Abstractions;

public sealed record DashboardUserRecord(string Id, string MerchantId, string Email, string PasswordHash, string Role, int FailedSignIns,
    DateTimeOffset? LockedUntil, DateTimeOffset? LastSignInAt, DateTimeOffset CreatedAt);

public sealed record AuditRecord(string Id, string MerchantId, string Actor, string Role, string Action, string? Target, string? Reason, string Outcome,
    DateTimeOffset At);

/// <summary>Orders created on one UTC day in one currency: how many, how many were paid, and how much was paid.</summary>
public sealed record DailyVolume(DateOnly Day, string Currency, int Orders, int Paid, long AmountPaid);

/// <summary>Dashboard users, the audit log, API key management and the overview's aggregates.</summary>
public interface IDashboardStore
{
    /// <returns>False when the email is already taken.</returns>
    Task<bool> AddDashboardUserAsync(DashboardUserRecord user, CancellationToken cancellationToken);

    Task<DashboardUserRecord?> FindDashboardUserByEmailAsync(string email, CancellationToken cancellationToken);

    Task<DashboardUserRecord?> GetDashboardUserAsync(string userId, CancellationToken cancellationToken);

    Task<IReadOnlyList<DashboardUserRecord>> ListDashboardUsersAsync(string merchantId, CancellationToken cancellationToken);

    /// <summary>After a sign-in attempt: the failure count, the lock, and on success when it happened.</summary>
    Task RecordSignInAsync(string userId, int failedSignIns, DateTimeOffset? lockedUntil, DateTimeOffset? signedInAt, CancellationToken cancellationToken);

    /// <summary>Counts a failed sign-in atomically; at <paramref name="maxFailures"/> the account locks until <paramref name="lockUntil"/> and the count restarts.</summary>
    Task RecordFailedSignInAsync(string userId, int maxFailures, DateTimeOffset lockUntil, CancellationToken cancellationToken);

    Task AddAuditAsync(AuditRecord entry, CancellationToken cancellationToken);

    /// <summary>Newest first; only <paramref name="target"/>'s entries when given.</summary>
    Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string merchantId, string? target, int limit, CancellationToken cancellationToken);

    /// <summary>The merchant's latest notification deliveries (webhooks, emails, texts), newest first.</summary>
    Task<IReadOnlyList<DeliveryRecord>> ListRecentDeliveriesAsync(string merchantId, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string merchantId, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the key unless it is the merchant's last active one of its mode (test or live). The check and the revocation are one decision:
    /// revocations of one merchant's keys take turns, so two at once can never revoke its last two keys together.
    /// </summary>
    Task<KeyRevocation> RevokeApiKeyAsync(string merchantId, string keyId, DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<DailyVolume>> DailyVolumeAsync(string merchantId, DateTimeOffset from, CancellationToken cancellationToken);

    /// <summary>Open orders (created, pending, unknown) counted by age: the upper bounds in <paramref name="createdBefore"/>, oldest bucket last.</summary>
    Task<IReadOnlyList<int>> OpenOrdersByAgeAsync(string merchantId, IReadOnlyList<DateTimeOffset> createdBefore, CancellationToken cancellationToken);

    Task<int> CountOrdersAsync(string merchantId, string status, CancellationToken cancellationToken);

    /// <summary>A pending task of the order is made due now ("retry now"); false when there is none pending of that kind.</summary>
    Task<bool> ExpediteOrderTaskAsync(string orderId, string kind, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>What a request to revoke an API key did.</summary>
public enum KeyRevocation
{
    Revoked,

    /// <summary>No such key for this merchant.</summary>
    NotFound,

    AlreadyRevoked,

    /// <summary>Refused: the merchant would be left without an active key of that mode (test or live).</summary>
    LastActiveKey,
}
