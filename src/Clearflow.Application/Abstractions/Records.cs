using Clearflow.Domain.Orders;

namespace Clearflow.Application.Abstractions;

// Rows as the use cases see them. Instants are UTC; storage keeps them as Unix milliseconds.

public sealed record MerchantRecord(string Id, string Name, string SettingsJson, DateTimeOffset CreatedAt);

/// <summary>An API key as stored: only its SHA-256 hash, never the key itself.</summary>
public sealed record ApiKeyRecord(string Id, string MerchantId, string KeyHash, string KeyPrefix, string Mode, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public sealed record CustomerRecord(string Id, string? Email, string? Phone, string? Name);

public sealed record OrderRecord(
    string Id,
    string MerchantId,
    string Receipt,
    long Amount,
    string Currency,
    long AmountPaid,
    long AmountRefunded,
    OrderStatus Status,
    string? StatusReason,
    string Gateway,
    CustomerRecord Customer,
    string MetadataJson,
    string? ReturnUrl,
    string ClientSecret,
    string IdempotencyKey,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record AttemptRecord(
    string Id,
    string OrderId,
    string Gateway,
    string GatewayReference,
    string Status,
    string CheckoutJson,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>One line of an order's timeline: everything that happened to it, in order.</summary>
public sealed record TimelineEntry(DateTimeOffset At, string Kind, string Message, string? DataJson = null);

/// <summary>A conditional status change: applied only if the order is still in one of <see cref="From"/>.</summary>
public sealed record StatusTransition(
    string OrderId,
    IReadOnlyList<OrderStatus> From,
    OrderStatus To,
    string Reason,
    long? AmountPaid,
    string? AttemptId,
    string? AttemptStatus,
    TimelineEntry Entry);

public enum InboxSource
{
    Webhook,
    Callback,
}

/// <summary>
/// An outcome signal as stored before it is processed. Webhooks are kept raw (exact bytes) for
/// audit, next to the normalised observation the connector read from them.
/// </summary>
public sealed record InboxEventRecord(
    string Id,
    InboxSource Source,
    string Gateway,
    string DedupeKey,
    string GatewayReference,
    string? OrderId,
    string EventType,
    string? ObservationJson,
    byte[]? RawBody,
    DateTimeOffset ReceivedAt,
    int Attempts,
    DateTimeOffset? ProcessedAt,
    string? Outcome);

public abstract record IdempotencyBegin
{
    private IdempotencyBegin() { }

    /// <summary>This request owns the key now and must complete or release it.</summary>
    public sealed record Started : IdempotencyBegin;

    /// <summary>The key finished before: answer with exactly this.</summary>
    public sealed record Replay(int StatusCode, string Body) : IdempotencyBegin;

    /// <summary>The key was used with a different request.</summary>
    public sealed record Mismatch : IdempotencyBegin;

    /// <summary>Another request with the key is running right now.</summary>
    public sealed record InProgress : IdempotencyBegin;
}
