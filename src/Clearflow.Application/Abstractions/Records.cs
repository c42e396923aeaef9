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
    DateTimeOffset UpdatedAt)
{
    /// <summary>When the poller asks the gateway next; null once no automatic check is due (final or with an operator).</summary>
    public DateTimeOffset? NextCheckAt { get; init; }

    /// <summary>Answered checks so far.</summary>
    public int CheckCount { get; init; }

    /// <summary>Consecutive checks in which the gateway could not be asked.</summary>
    public int CheckFailures { get; init; }

    public DateTimeOffset? LastCheckedAt { get; init; }

    /// <summary>The gateway's last answer (normalised), or the error when it could not be asked.</summary>
    public string? LastGatewayStatus { get; init; }

    /// <summary>When the customer reached the gateway: max age counts from here.</summary>
    public DateTimeOffset? ChecksStartedAt { get; init; }

    /// <summary>Set when money moved after the order was closed; the compensation path picks it up.</summary>
    public DateTimeOffset? CompensationRequiredAt { get; init; }

    /// <summary>Refunds under way or done: what may still be refunded is <c>AmountPaid - AmountRefundReserved</c>.</summary>
    public long AmountRefundReserved { get; init; }
}

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

/// <summary>
/// A conditional status change: applied only if the order is still in <see cref="From"/>, the status the change was
/// decided on (so the timeline's "from" is true; a caller that loses reads the order again and decides anew).
/// </summary>
public sealed record StatusTransition(
    string OrderId,
    OrderStatus From,
    OrderStatus To,
    string Reason,
    long? AmountPaid,
    string? AttemptId,
    string? AttemptStatus,
    TimelineEntry Entry)
{
    /// <summary>A late success: flag the order for compensation in the same transaction.</summary>
    public bool RequiresCompensation { get; init; }

    /// <summary>Notifications to queue in the same transaction (outbox), if the move succeeds.</summary>
    public IReadOnlyList<OutboxMessage> Notifications { get; init; } = [];

    /// <summary>Money that moved with this transition (a capture), posted in the same transaction.</summary>
    public Domain.Ledger.LedgerTransaction? Ledger { get; init; }

    /// <summary>Work that follows (fulfil, compensate), created in the same transaction.</summary>
    public IReadOnlyList<OrderTaskRecord> Tasks { get; init; } = [];

    /// <summary>
    /// What was recorded before the decision (an inbox event's verify step and "webhook received" entry): written in
    /// the same command whether the move succeeds or not, ahead of the move's own entries (ADR 19).
    /// </summary>
    public PriorRecords? Prior { get; init; }

    /// <summary>The inbox event this move completes: marked processed, with its transition step, only if the move succeeds (ADR 19).</summary>
    public InboxCompletion? Completes { get; init; }
}

/// <summary>A step and (when given) its timeline entry, recorded before what they lead to.</summary>
public sealed record PriorRecords(StepRecord Step, TimelineEntry? Entry);

/// <summary>An inbox event processed: its outcome and the step that records it.</summary>
public sealed record InboxCompletion(string InboxEventId, DateTimeOffset At, string Outcome, StepRecord Step);

public sealed record RefundRecord(
    string Id,
    string OrderId,
    string MerchantId,
    long Amount,
    string Currency,
    string Status,
    string Kind,
    string? Reason,
    string IdempotencyKey,
    string? GatewayReference,
    string? FailureReason,
    DateTimeOffset? NextCheckAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Status checks made since the gateway accepted it.</summary>
    public int CheckCount { get; init; }
}

public abstract record RefundReservation
{
    private RefundReservation() { }

    public sealed record Created(RefundRecord Refund) : RefundReservation;

    /// <summary>A refund with this idempotency key exists for the order.</summary>
    public sealed record Duplicate(RefundRecord Existing) : RefundReservation;

    /// <summary>The order is not in a refundable status (not paid, or fully refunded).</summary>
    public sealed record NotRefundable(string OrderStatus) : RefundReservation;

    /// <summary>More than is left to refund (paid minus refunds already made or under way).</summary>
    public sealed record ExceedsRefundable(long Refundable) : RefundReservation;
}

/// <summary>A refund reaching its final status at the gateway.</summary>
public sealed record RefundCompletion(string RefundId, bool Succeeded, string? FailureReason, DateTimeOffset At, TimelineEntry Entry)
{
    public IReadOnlyList<OutboxMessage> Notifications { get; init; } = [];

    /// <summary>
    /// Notices for the order's new status, by status ("refunded", "partially_refunded"): only storage knows
    /// which one the refund leads to (concurrent refunds), so it queues the matching set.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<OutboxMessage>> NotificationsByOrderStatus { get; init; } =
        new Dictionary<string, IReadOnlyList<OutboxMessage>>();
    public Domain.Ledger.LedgerTransaction? Ledger { get; init; }
}

/// <summary>
/// Tasks just claimed, with their fulfil tasks' orders and the orders' merchants as read in the claim's command (possibly
/// a few more than the tasks need: the read matches the lease, and another node's claim may end in the same millisecond).
/// </summary>
public sealed record ClaimedOrderTasks(IReadOnlyList<OrderTaskRecord> Tasks, IReadOnlyList<OrderRecord> Orders, IReadOnlyList<MerchantRecord> Merchants)
{
    /// <summary>The task's order and its merchant as the claim read them; null if the claim did not read them.</summary>
    public (OrderRecord Order, MerchantRecord Merchant)? ReadFor(OrderTaskRecord task) =>
        Orders.FirstOrDefault(o => o.Id == task.OrderId) is { } order && Merchants.FirstOrDefault(m => m.Id == order.MerchantId) is { } merchant
            ? (order, merchant) : null;
}

/// <summary>A unit of pipeline work after a transition. Unique per (order, kind).</summary>
public sealed record OrderTaskRecord(string Id, string OrderId, string Kind, string Status, string? Reason, int Attempts, DateTimeOffset AvailableAt,
    string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt)
{
    public const string Fulfil = "fulfil";
    public const string Compensate = "compensate";
}

/// <summary>One execution of one pipeline step.</summary>
public sealed record StepRecord(string OrderId, string Step, int Attempt, DateTimeOffset StartedAt, DateTimeOffset EndedAt, string Outcome, string? Error);

public sealed record LedgerEntryRecord(string TransactionId, string PostingKey, string MerchantId, string? OrderId, string Account, long Amount, string Currency,
    string Kind, DateTimeOffset CreatedAt);

/// <summary>An order's money as its row says and as the ledger says, for verification.</summary>
public sealed record OrderLedgerTotals(string OrderId, string Status, long AmountPaid, long AmountRefunded, long Captured, long RefundedPosted);

public sealed record LedgerImbalance(string TransactionId, string Currency, long Sum);

/// <summary>
/// An intent to notify, committed with the change that causes it. <see cref="DedupeKey"/> is unique,
/// so a retried change cannot queue a second message.
/// </summary>
public sealed record OutboxMessage(string Id, string MerchantId, string? OrderId, string Topic, string DedupeKey, string PayloadJson, DateTimeOffset CreatedAt)
{
    public DateTimeOffset? DispatchedAt { get; init; }
}

/// <summary>The outcome of one status check, written back to the order.</summary>
/// <param name="Answered">false when the gateway could not be asked</param>
/// <param name="GatewayStatus">normalised answer, or the error text when not answered</param>
/// <param name="NextCheckAt">null: no more automatic checks</param>
public sealed record StatusCheckRecord(string OrderId, DateTimeOffset CheckedAt, bool Answered, string GatewayStatus, DateTimeOffset? NextCheckAt);

public sealed record DailyRunRecord(string MerchantId, string ReportDate, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? ReportJson);

/// <summary>Orders of one merchant and status, for the daily report.</summary>
public sealed record StatusTotal(string Status, string Currency, int Count, long Amount);

public enum InboxSource
{
    Webhook,
    /// <summary>The customer's return through the gateway: processing it means fetching the status.</summary>
    Callback,
    /// <summary>An answer Clearflow fetched itself (poller, end-of-day sweep, operator re-check).</summary>
    Poll,
}

/// <summary>
/// An inbox event taken for processing, with the payment attempt its gateway reference names, that attempt's order and
/// the order's merchant as they were when it was claimed (all null: no such payment is known).
/// </summary>
public sealed record ClaimedInboxEvent(InboxEventRecord Event, AttemptRecord? Attempt, OrderRecord? Order, MerchantRecord? Merchant);

/// <summary>
/// An event its receiver stored already leased to itself (ADR 23), with the claim's reads made in the same command, and
/// when (<see cref="TimeProvider.GetTimestamp"/>, taken before the command): the reads are decided on only while fresh.
/// </summary>
public sealed record LeasedInboxEvent(ClaimedInboxEvent Claimed, long ReadAt);

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
    string? Outcome)
{
    /// <summary>
    /// The merchant whose webhook address received the event (gateways with one address per merchant); null when the
    /// address is shared by all merchants (the sandbox's) and for signals Clearflow fetched itself.
    /// </summary>
    public string? MerchantId { get; init; }
}

/// <summary>The reply to remember for a merchant's Idempotency-Key, replayed byte for byte to a retry.</summary>
public sealed record IdempotentReply(string MerchantId, string Key, int StatusCode, string Body);

/// <summary>A request's claim of a new Idempotency-Key: held until <c>At + LockFor</c>, remembered until <c>At + KeepFor</c>.</summary>
public sealed record IdempotencyClaim(string MerchantId, string Key, string RequestHash, DateTimeOffset At, TimeSpan LockFor, TimeSpan KeepFor)
{
    /// <summary>
    /// The hash of an API key not read for this request (ADR 22): the combined insert of a new key with its order claims
    /// the key only while that API key is the merchant's and not revoked, and otherwise writes nothing.
    /// </summary>
    public string? ApiKeyHash { get; init; }
}

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
