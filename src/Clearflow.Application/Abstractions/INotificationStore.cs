namespace Clearflow.Application.Abstractions;

public sealed record WebhookEndpointRecord(string Id, string MerchantId, string Url, IReadOnlyList<string> EventTypes, string Secret, string? PreviousSecret,
    DateTimeOffset? PreviousSecretExpiresAt, string Status, DateTimeOffset? FailingSince, DateTimeOffset? DisabledAt, string? DisabledReason, DateTimeOffset CreatedAt)
{
    public bool Subscribes(string topic) => EventTypes.Contains("*") || EventTypes.Contains(topic);
}

/// <summary>One outbox message and the deliveries it fans out to (none: it concerns no one).</summary>
public sealed record OutboxFanOut(string OutboxId, IReadOnlyList<DeliveryRecord> Deliveries);

/// <param name="Channel">"webhook", "email" or "sms"</param>
/// <param name="Target">the endpoint id, an operator's address, or "customer" (resolved from the order when sent)</param>
public sealed record DeliveryRecord(string Id, string OutboxId, string MerchantId, string? OrderId, string Topic, string Channel, string Target, string Status,
    int Attempts, DateTimeOffset AvailableAt, int? LastStatusCode, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

public sealed record DeliveryAttemptRecord(string DeliveryId, int Attempt, DateTimeOffset At, int? StatusCode, long LatencyMs, string? ResponseExcerpt, string? Error);

/// <summary>The outcome of one delivery attempt, written with the attempt in one transaction.</summary>
/// <param name="OrderId">the delivery's order, whose timeline gets <paramref name="Entry"/> (null: not about an order)</param>
/// <param name="Status">"delivered", "pending" (try again at <paramref name="NextAttemptAt"/>) or "abandoned"</param>
public sealed record DeliveryResult(DeliveryAttemptRecord Attempt, string? OrderId, string Status, DateTimeOffset? NextAttemptAt, TimelineEntry? Entry)
{
    /// <summary>
    /// The webhook endpoint that took the delivery: its failure streak, if it had one, ends in the same transaction.
    /// An endpoint that is not failing is not written at all (every payment delivers to it several times).
    /// </summary>
    public string? TakenByEndpointId { get; init; }
}

/// <summary>Notification storage: merchant webhook endpoints, the fan-out of the outbox, and every delivery attempt.</summary>
public interface INotificationStore
{
    Task AddWebhookEndpointAsync(WebhookEndpointRecord endpoint, CancellationToken cancellationToken);
    Task<WebhookEndpointRecord?> GetWebhookEndpointAsync(string endpointId, CancellationToken cancellationToken);

    /// <summary>The endpoints with these ids that exist (any status), in no particular order.</summary>
    Task<IReadOnlyList<WebhookEndpointRecord>> GetWebhookEndpointsAsync(IReadOnlyCollection<string> endpointIds, CancellationToken cancellationToken);
    Task<IReadOnlyList<WebhookEndpointRecord>> ListWebhookEndpointsAsync(string merchantId, CancellationToken cancellationToken);
    Task RotateWebhookSecretAsync(string endpointId, string newSecret, DateTimeOffset previousExpiresAt, CancellationToken cancellationToken);

    /// <summary>"enabled" (clears the failure streak), "disabled" or "deleted".</summary>
    Task SetWebhookEndpointStatusAsync(string endpointId, string status, string? reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a delivery to the endpoint failed; returns since when it has been failing. A success ends the
    /// streak with the delivery's own record (<see cref="DeliveryResult.TakenByEndpointId"/>).
    /// </summary>
    Task<DateTimeOffset> RecordEndpointFailureAsync(string endpointId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Disables the endpoint if it is still enabled and failing since before <paramref name="failingSinceBefore"/>; queues the notice with it.</summary>
    Task<bool> DisableFailingEndpointAsync(string endpointId, DateTimeOffset failingSinceBefore, DateTimeOffset at, string reason, OutboxMessage notice, CancellationToken cancellationToken);

    Task<IReadOnlyList<OutboxMessage>> ListUndispatchedOutboxAsync(int limit, CancellationToken cancellationToken);
    /// <summary>The outbox messages with these ids, in no particular order.</summary>
    Task<IReadOnlyList<OutboxMessage>> GetOutboxMessagesAsync(IReadOnlyCollection<string> outboxIds, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the messages dispatched and inserts their deliveries, all in one transaction. A message another node
    /// dispatched first is left out, with its deliveries. A delivery is written as given: pending, with its attempts and
    /// due time (a dispatching node leases the deliveries it creates). Returns the ids of the messages this call dispatched.
    /// </summary>
    Task<IReadOnlyList<string>> CommitFanOutsAsync(IReadOnlyList<OutboxFanOut> fanOuts, DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeliveryRecord>> ClaimDueDeliveriesAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records the attempts, each with its delivery's new state and its order's timeline entry, and ends the failure
    /// streak of each endpoint that took one, in one command. A record whose delivery has since been leased again (its
    /// send outlived its lease) keeps the attempt but leaves the delivery as the later lease has it. Should the database
    /// refuse the command (and so undo it), each record is written alone (ADR 20). Returns one outcome per record, in
    /// order: null when written, otherwise the database's refusal of it. Any other failure (the command's fate unknown)
    /// is thrown.
    /// </summary>
    Task<IReadOnlyList<Exception?>> RecordDeliveryAttemptsAsync(IReadOnlyList<DeliveryResult> results, CancellationToken cancellationToken);

    Task<DeliveryRecord?> GetDeliveryAsync(string deliveryId, CancellationToken cancellationToken);
    Task<IReadOnlyList<DeliveryRecord>> ListDeliveriesAsync(string merchantId, string? target, string? orderId, CancellationToken cancellationToken);
    Task<IReadOnlyList<DeliveryAttemptRecord>> ListDeliveryAttemptsAsync(string deliveryId, CancellationToken cancellationToken);

    /// <summary>Queues a delivery again now (manual replay), keeping its attempt history.</summary>
    Task<bool> ReplayDeliveryAsync(string deliveryId, DateTimeOffset now, CancellationToken cancellationToken);
}
