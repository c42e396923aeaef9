using Clearflow.Domain.Orders;

namespace Clearflow.Application.Abstractions;

/// <summary>
/// The storage port. One contract, two adapters (SQLite for one process, PostgreSQL for many),
/// both held to the same contract test suite. Its parts are split by concern so a use case
/// asks only for what it touches.
/// </summary>
public interface IClearflowStore : IMerchantStore, IOrderStore, IIdempotencyStore, IInboxStore, ISystemSettings, ISandboxStore,
    IStatusCheckStore, IOutboxStore, IDailyRunStore, ISingletonLock, IRefundStore, IOrderTaskStore, ILedgerStore, INotificationStore, IDashboardStore,
    IGatewayCredentialStore
{
    /// <summary>"sqlite" or "postgresql".</summary>
    string Kind { get; }

    /// <summary>Applies pending schema migrations; returns the versions applied now.</summary>
    Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken);
}

public interface IMerchantStore
{
    /// <summary>Adds a merchant; false when the name is taken (names are unique).</summary>
    Task<bool> CreateMerchantAsync(MerchantRecord merchant, CancellationToken cancellationToken);
    /// <summary>The merchant, possibly as read up to <c>MerchantCacheTime</c> (2 s) ago on this node (ADR 12).</summary>
    Task<MerchantRecord?> GetMerchantAsync(string merchantId, CancellationToken cancellationToken);

    /// <summary>The merchant as stored now: for decisions about money (fulfilment target and secret, late-success policy).</summary>
    Task<MerchantRecord?> GetMerchantUncachedAsync(string merchantId, CancellationToken cancellationToken);
    Task<MerchantRecord?> FindMerchantByNameAsync(string name, CancellationToken cancellationToken);
    Task<IReadOnlyList<MerchantRecord>> ListMerchantsAsync(CancellationToken cancellationToken);
    Task UpdateMerchantSettingsAsync(string merchantId, string settingsJson, CancellationToken cancellationToken);

    /// <summary>Adds a key; false when a key with the same hash exists already.</summary>
    Task<bool> AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken);
    Task<ApiKeyRecord?> FindApiKeyByHashAsync(string keyHash, CancellationToken cancellationToken);
}

public interface IOrderStore
{
    /// <summary>Inserts the order with its first timeline entry (and notices); false when the merchant already has an order with this receipt.</summary>
    Task<bool> InsertOrderAsync(OrderRecord order, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="InsertOrderAsync"/> with the request's Idempotency-Key claimed in the same command (ADR 18). False, and
    /// nothing written, when the key exists already (whatever its state), the receipt is taken, or the claim names an API
    /// key (<see cref="IdempotencyClaim.ApiKeyHash"/>) that is not the merchant's valid key now (ADR 22): the caller then
    /// takes the careful path (<see cref="IIdempotencyStore.BeginIdempotentAsync"/>, then <see cref="InsertOrderAsync"/>).
    /// </summary>
    Task<bool> InsertOrderClaimingKeyAsync(OrderRecord order, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, IdempotencyClaim claim,
        CancellationToken cancellationToken);
    Task<OrderRecord?> GetOrderAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>
    /// The order and its merchant as stored now (the merchant uncached, ADR 12), in one read: for the steps that need the
    /// merchant's current settings to act on an order (fulfilment target, late-success policy).
    /// </summary>
    Task<(OrderRecord Order, MerchantRecord Merchant)?> GetOrderWithMerchantAsync(string orderId, CancellationToken cancellationToken);
    Task<OrderRecord?> FindOrderByReceiptAsync(string merchantId, string receipt, CancellationToken cancellationToken);

    /// <summary>
    /// The merchant's orders matching <paramref name="query"/>, newest first, strictly after <paramref name="after"/>,
    /// at most <paramref name="limit"/>; each with its latest attempt's gateway reference.
    /// </summary>
    Task<IReadOnlyList<OrderListRow>> SearchOrdersAsync(OrderQuery query, OrderCursor? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Adds a payment attempt, and with it (when given) the reply of the request that created it for its
    /// Idempotency-Key; false, and nothing written, when an attempt with this id or gateway reference exists.
    /// The customer is at the gateway now: status checks start, the first at <paramref name="firstCheckAt"/>.
    /// </summary>
    Task<bool> AddAttemptAsync(AttemptRecord attempt, TimelineEntry entry, DateTimeOffset firstCheckAt, IdempotentReply? reply, CancellationToken cancellationToken);
    Task<IReadOnlyList<AttemptRecord>> GetAttemptsAsync(string orderId, CancellationToken cancellationToken);
    Task<AttemptRecord?> FindAttemptByReferenceAsync(string gateway, string gatewayReference, CancellationToken cancellationToken);

    /// <summary>
    /// The only way status changes: <c>UPDATE ... WHERE status IN (From)</c> plus the timeline entry
    /// in one transaction. False when the order was no longer in an allowed status (nothing written).
    /// </summary>
    Task<bool> TryTransitionAsync(StatusTransition transition, CancellationToken cancellationToken);

    Task AppendTimelineAsync(string orderId, TimelineEntry entry, CancellationToken cancellationToken);
    Task<IReadOnlyList<TimelineEntry>> GetTimelineAsync(string orderId, CancellationToken cancellationToken);
}

public interface IIdempotencyStore
{
    /// <summary>
    /// Claims the key for this request (insert under the primary key, so two racing requests cannot both
    /// start), or says what the key's earlier request came to. A claim left by a crashed request is taken
    /// over once its lock (<see cref="IdempotencyClaim.LockFor"/>) has passed.
    /// </summary>
    Task<IdempotencyBegin> BeginIdempotentAsync(IdempotencyClaim claim, CancellationToken cancellationToken);

    Task CompleteIdempotentAsync(string merchantId, string key, int statusCode, string body, CancellationToken cancellationToken);

    /// <summary>Forgets a claim whose request failed in a way worth retrying with the same key.</summary>
    Task ReleaseIdempotentAsync(string merchantId, string key, CancellationToken cancellationToken);

    /// <summary>Deletes keys past their retention; returns how many.</summary>
    Task<int> PurgeExpiredIdempotencyKeysAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

public interface IInboxStore
{
    /// <summary>
    /// Stores the event durably, due at once for any node's claim (a callback's; webhooks and status checks' answers are
    /// stored leased, <see cref="InsertLeasedInboxEventAsync"/>); false when (gateway, dedupe key) was seen before.
    /// </summary>
    Task<bool> InsertInboxEventAsync(InboxEventRecord inboxEvent, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the event already taken for processing by the caller until <paramref name="leaseEnd"/> (its first attempt), and
    /// reads it as <see cref="TryClaimInboxEventAsync"/> does, in the same command (ADR 23); null when (gateway, dedupe key)
    /// was seen before. The event comes back without its raw body, which processing never reads.
    /// </summary>
    Task<ClaimedInboxEvent?> InsertLeasedInboxEventAsync(InboxEventRecord inboxEvent, DateTimeOffset leaseEnd, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the event for processing for <paramref name="lease"/>, read together with the attempt its gateway reference
    /// names, that attempt's order and the order's merchant (as stored now, uncached); null when done or held by another worker.
    /// </summary>
    Task<ClaimedInboxEvent?> TryClaimInboxEventAsync(string id, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="TryClaimInboxEventAsync"/>, by the holder of a lease not yet ended (the event's attempts were
    /// <paramref name="heldAttempts"/> when it took it): a new lease and fresh reads, unless the event was processed or
    /// taken by someone else since (null).
    /// </summary>
    Task<ClaimedInboxEvent?> TryReclaimInboxEventAsync(string id, int heldAttempts, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ListDueInboxEventIdsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);
    /// <summary>Marks the event processed, with the pipeline step that processed it (if any) in the same transaction.</summary>
    Task CompleteInboxEventAsync(string id, DateTimeOffset now, string outcome, StepRecord? step, CancellationToken cancellationToken);

    /// <summary>
    /// An observation that changes nothing (a duplicate, a late signal), in one command (ADR 19): what was recorded before
    /// the decision (if not written yet), the "ignored" timeline entry, and the inbox event's completion.
    /// </summary>
    Task RecordIgnoredAsync(string orderId, PriorRecords? prior, TimelineEntry ignored, InboxCompletion completion, CancellationToken cancellationToken);
    Task DeferInboxEventAsync(string id, DateTimeOffset retryAt, string error, CancellationToken cancellationToken);
    Task<InboxEventRecord?> GetInboxEventAsync(string id, CancellationToken cancellationToken);

    /// <summary>The merchant whose order a gateway reference belongs to, or null when no attempt has it.</summary>
    Task<string?> FindAttemptOwnerAsync(string gateway, string gatewayReference, CancellationToken cancellationToken);
}

/// <summary>Installation-wide values that must be the same on every node (generated once).</summary>
public interface ISystemSettings
{
    /// <summary>Returns the stored value, storing <paramref name="valueIfMissing"/> first if there is none.</summary>
    Task<string> GetOrAddSettingAsync(string name, string valueIfMissing, CancellationToken cancellationToken);
}

public interface IStatusCheckStore
{
    /// <summary>
    /// Takes up to <paramref name="limit"/> orders whose check is due, pushing their next check to
    /// <paramref name="leaseEnd"/> in the same statement, so each due time is claimed by one worker on
    /// one node (PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c>).
    /// </summary>
    Task<IReadOnlyList<string>> ClaimDueStatusChecksAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken);

    /// <summary>Writes what a check found and when the next is due (counts answered checks and consecutive failures).</summary>
    Task RecordStatusCheckAsync(StatusCheckRecord check, CancellationToken cancellationToken);

    /// <summary>Orders of a merchant created in [from, to) that are not final (requires_review included).</summary>
    Task<IReadOnlyList<OrderRecord>> ListOpenOrdersCreatedBetweenAsync(string merchantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    Task<IReadOnlyList<StatusTotal>> TotalsByStatusAsync(string merchantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

public interface IOutboxStore
{
    /// <summary>Queues a message; false when one with the same dedupe key exists.</summary>
    Task<bool> AddOutboxMessageAsync(OutboxMessage message, CancellationToken cancellationToken);
    Task<IReadOnlyList<OutboxMessage>> ListOutboxMessagesAsync(string merchantId, string? orderId, CancellationToken cancellationToken);
}

public interface IDailyRunStore
{
    /// <summary>
    /// Claims the run of (merchant, date); false when it finished already or another node started it
    /// less than <paramref name="staleAfter"/> ago. A run that died is taken over after that.
    /// </summary>
    Task<bool> TryStartDailyRunAsync(string merchantId, string reportDate, DateTimeOffset now, TimeSpan staleAfter, CancellationToken cancellationToken);

    /// <summary>Stores the report and queues its notification in one transaction.</summary>
    Task CompleteDailyRunAsync(string merchantId, string reportDate, DateTimeOffset now, string reportJson, OutboxMessage notify, CancellationToken cancellationToken);

    Task<DailyRunRecord?> GetDailyRunAsync(string merchantId, string reportDate, CancellationToken cancellationToken);
}

/// <summary>A cluster-wide "only one of us does this now" (PostgreSQL advisory lock; in-process on SQLite).</summary>
public interface ISingletonLock
{
    /// <summary>The held lock, or null when another holder has it. Dispose to release.</summary>
    Task<IAsyncDisposable?> TryAcquireSingletonAsync(string name, CancellationToken cancellationToken);
}

public interface IRefundStore
{
    /// <summary>
    /// Records a refund and reserves its amount on the order in one transaction, guarded by
    /// <c>amount_paid - amount_refund_reserved &gt;= amount</c> in the update itself: concurrent refunds
    /// can never add up to more than was paid.
    /// </summary>
    Task<RefundReservation> ReserveRefundAsync(RefundRecord refund, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, CancellationToken cancellationToken);

    Task<RefundRecord?> GetRefundAsync(string refundId, CancellationToken cancellationToken);
    Task<IReadOnlyList<RefundRecord>> ListRefundsAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>Stores the gateway's reference for a refund it accepted, and when to ask about it next.</summary>
    Task SetRefundGatewayReferenceAsync(string refundId, string gatewayReference, DateTimeOffset? nextCheckAt, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a pending refund to its final status, once: on success the order's refunded amount and status
    /// follow and the ledger is posted; on failure the reservation is released. False when already final.
    /// </summary>
    Task<bool> CompleteRefundAsync(RefundCompletion completion, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ClaimDueRefundChecksAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken);
    Task RecordRefundCheckAsync(string refundId, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken);
}

public interface IOrderTaskStore
{
    /// <summary>Adds a task; false when the order already has one of this kind.</summary>
    Task<bool> AddOrderTaskAsync(OrderTaskRecord task, CancellationToken cancellationToken);

    /// <summary>
    /// Takes due tasks for <paramref name="leaseEnd"/> (a crashed worker's task comes back after it), counting the attempt,
    /// and reads their orders and those orders' merchants in the same round trip (ADR 21).
    /// </summary>
    Task<ClaimedOrderTasks> ClaimDueOrderTasksAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Finishes a task (done or failed) with its follow-ups, notifications and timeline entry in one transaction; false when it
    /// was finished already. The step that ran it, if given, is recorded in the same transaction either way.
    /// </summary>
    Task<bool> CompleteOrderTaskAsync(OrderTaskRecord task, string status, DateTimeOffset at, string? error, TimelineEntry? entry,
        IReadOnlyList<OrderTaskRecord> followUps, IReadOnlyList<OutboxMessage> notifications, StepRecord? step, CancellationToken cancellationToken);

    Task RetryOrderTaskAsync(string taskId, DateTimeOffset availableAt, string error, CancellationToken cancellationToken);
    Task<IReadOnlyList<OrderTaskRecord>> ListOrderTasksAsync(string orderId, CancellationToken cancellationToken);

    Task RecordStepAsync(StepRecord step, CancellationToken cancellationToken);

    Task<IReadOnlyList<StepRecord>> ListStepsAsync(string orderId, CancellationToken cancellationToken);
}

public interface ILedgerStore
{
    Task<IReadOnlyList<LedgerEntryRecord>> ListLedgerEntriesAsync(string? merchantId, string? orderId, CancellationToken cancellationToken);

    /// <summary>Ledger transactions whose postings do not sum to zero in a currency (there should be none).</summary>
    Task<IReadOnlyList<LedgerImbalance>> LedgerImbalancesAsync(string? merchantId, CancellationToken cancellationToken);

    Task<IReadOnlyList<OrderLedgerTotals>> OrderLedgerTotalsAsync(string? merchantId, CancellationToken cancellationToken);
}
