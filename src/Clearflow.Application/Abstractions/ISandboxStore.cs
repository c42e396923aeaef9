namespace Clearflow.Application.Abstractions;

/// <summary>
/// The sandbox gateway's own bookkeeping. It stands in for a real gateway's database, kept in
/// Clearflow's database so every node of an installation sees the same sandbox.
/// </summary>
public interface ISandboxStore
{
    /// <summary>Inserts the order; when the idempotency key was used before, returns the existing order instead.</summary>
    Task<SandboxOrderRecord> InsertSandboxOrderAsync(SandboxOrderRecord order, CancellationToken cancellationToken);
    Task<SandboxOrderRecord?> GetSandboxOrderAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Answers one status query the way the order's behaviour says, in one statement: counts it, spends
    /// a scripted failure if one is left (<see cref="SandboxStatusQuery.Failed"/>), or counts down a
    /// scripted "pending for N checks" and then settles the order.
    /// </summary>
    Task<SandboxStatusQuery?> QuerySandboxStatusAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Scripts the next <paramref name="statusFailures"/> status queries to fail with <paramref name="failureMode"/>.</summary>
    Task<bool> SetSandboxStatusFailuresAsync(string id, int statusFailures, string failureMode, CancellationToken cancellationToken);

    /// <summary>How the order's refunds end: "succeeded", "failed", or "pending:N:succeeded|failed" (pending for N queries).</summary>
    Task<bool> SetSandboxRefundBehaviourAsync(string id, string behaviour, CancellationToken cancellationToken);

    /// <summary>Creates a refund once per refund key (a repeat returns the first); null with a reason when it cannot be refunded.</summary>
    Task<(SandboxRefundRecord? Refund, string? Error)> CreateSandboxRefundAsync(string orderId, string refundKey, long amount, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Answers a refund status query, counting down a pending refund.</summary>
    Task<SandboxRefundRecord?> QuerySandboxRefundAsync(string refundId, CancellationToken cancellationToken);

    Task<IReadOnlyList<SandboxRefundRecord>> ListSandboxRefundsAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>
    /// Completes an open checkout and queues its webhooks in one transaction, each as given (its due time and attempts: a
    /// checkout stores them leased to its node's sender); false when it was already completed.
    /// </summary>
    Task<bool> CompleteSandboxCheckoutAsync(SandboxCompletion completion, IReadOnlyList<SandboxWebhookRecord> webhooks, CancellationToken cancellationToken);

    Task<IReadOnlyList<SandboxWebhookRecord>> ClaimDueSandboxWebhooksAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records webhook sends (their answers, and when each is delivered or tried again) in one command; a send whose lease
    /// was taken over since (another attempt counted) changes nothing, so a late answer never undoes the next lease's.
    /// </summary>
    Task RecordSandboxDeliveriesAsync(IReadOnlyList<SandboxDelivery> deliveries, CancellationToken cancellationToken);

    Task<IReadOnlyList<SandboxWebhookRecord>> ListSandboxWebhooksAsync(string orderId, CancellationToken cancellationToken);
}

/// <summary>
/// A sandbox webhook's send under the lease that counted <paramref name="Attempt"/>: the answer's status code (none if it did
/// not come), and when it was delivered or is tried again.
/// </summary>
public sealed record SandboxDelivery(string DeliveryId, int Attempt, int? StatusCode, DateTimeOffset? DeliveredAt, DateTimeOffset? RetryAt);

public sealed record SandboxOrderRecord(
    string Id,
    string IdempotencyKey,
    string MerchantReference,
    long Amount,
    string Currency,
    string ReturnUrl,
    string NotifyUrl,
    string Status,
    string? PaymentId,
    long? ReportedAmount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public int StatusQueries { get; init; }
}

/// <param name="Failed">this query must fail: "error" (answer 5xx) or "timeout" (never answer); null otherwise</param>
public sealed record SandboxStatusQuery(SandboxOrderRecord Order, string? Failed);

/// <param name="PendingChecks">with status "pending": settle after this many status queries</param>
/// <param name="EventualStatus">what it settles to: "succeeded" or "failed"</param>
public sealed record SandboxCompletion(string OrderId, string Status, string PaymentId, long? ReportedAmount, DateTimeOffset At,
    int PendingChecks = 0, string? EventualStatus = null)
{
    /// <summary>Completes the order only while it is as created (not pending): the caller decided on its copy from creation.</summary>
    public bool OnlyIfNew { get; init; }
}

public sealed record SandboxWebhookRecord(
    string DeliveryId,
    string EventId,
    string OrderId,
    int Sequence,
    string EventType,
    byte[] Body,
    bool SignCorrectly,
    string NotifyUrl,
    DateTimeOffset AvailableAt,
    int Attempts,
    int? LastStatusCode,
    DateTimeOffset? DeliveredAt);

public sealed record SandboxRefundRecord(string Id, string OrderId, string RefundKey, long Amount, string Status, DateTimeOffset CreatedAt);
