using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// Runs one inbox event through verify and transition. Claimed with a lease so two workers never
/// process the same event at once; a crash leaves the lease to expire and the event is taken again.
/// Every path (webhook, callback, poller, sweep) ends in <see cref="ApplyGatewayObservation"/>, so the
/// result is the same whichever signal arrives first, twice, late, or never.
/// </summary>
public sealed class ProcessInboxEvent(IClearflowStore store, IGatewayRegistry gateways, ApplyGatewayObservation apply, TimeProvider clock)
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    /// <summary>Backoff for events that could not be processed (gateway unreachable): 5 s doubling, at most 15 min.</summary>
    public static TimeSpan RetryDelay(int attempts) => TimeSpan.FromSeconds(Math.Min(900, 5 * Math.Pow(2, Math.Min(attempts, 10))));

    /// <summary>Processes the event if it is still due; returns what happened, or null when it was not ours to take.</summary>
    public async Task<string?> HandleAsync(string inboxEventId, CancellationToken cancellationToken) =>
        await store.TryClaimInboxEventAsync(inboxEventId, clock.GetUtcNow(), Lease, cancellationToken) is { } claimed
            ? await ProcessAsync(claimed, cancellationToken)
            : null;

    /// <summary>
    /// Stores an event leased to this node for <see cref="Lease"/>, read as a claim reads it, in one command (ADR 23), for
    /// <see cref="HandleLeasedAsync"/>; null when (gateway, dedupe key) was stored before.
    /// </summary>
    public async Task<LeasedInboxEvent?> StoreLeasedAsync(InboxEventRecord inboxEvent, CancellationToken cancellationToken)
    {
        var readAt = clock.GetTimestamp(); // before the command, so the read is no older than this says
        var stored = await store.InsertLeasedInboxEventAsync(inboxEvent, clock.GetUtcNow() + Lease, cancellationToken);
        return stored is null ? null : new LeasedInboxEvent(stored, readAt);
    }

    /// <summary>
    /// Processes an event stored leased to this node (<see cref="StoreLeasedAsync"/>), on the reads made with it while they are fresh;
    /// one whose turn came later is taken again with fresh reads, unless it was processed or taken by someone else since
    /// (null).
    /// </summary>
    public async Task<string?> HandleLeasedAsync(LeasedInboxEvent leased, CancellationToken cancellationToken)
    {
        var claimed = leased.Claimed;
        if (!ClaimedReads.AreFresh(clock, leased.ReadAt))
        {
            claimed = await store.TryReclaimInboxEventAsync(claimed.Event.Id, claimed.Event.Attempts, clock.GetUtcNow(), Lease, cancellationToken);
        }
        return claimed is null ? null : await ProcessAsync(claimed, cancellationToken);
    }

    private async Task<string> ProcessAsync(ClaimedInboxEvent claimed, CancellationToken cancellationToken)
    {
        var (inboxEvent, attempt, order, merchant) = claimed;
        if (attempt is null || order is null || merchant is null || (inboxEvent.OrderId is not null && inboxEvent.OrderId != attempt.OrderId))
        {
            // Signed by the gateway but about nothing we know (another installation, a deleted test order).
            // Kept in the inbox for audit; there is nothing to move.
            const string unmatched = "unmatched: no order has this gateway reference";
            await store.CompleteInboxEventAsync(inboxEvent.Id, clock.GetUtcNow(), unmatched, null, cancellationToken);
            return unmatched;
        }
        if (inboxEvent.MerchantId is { } receivedFor && order.MerchantId != receivedFor)
        {
            // Signed with one merchant's webhook secret, about another merchant's payment. The receiver refuses this when
            // the payment is already recorded; this catches a payment recorded after the event arrived.
            const string foreign = "unmatched: the payment belongs to another merchant than the webhook address's";
            await store.CompleteInboxEventAsync(inboxEvent.Id, clock.GetUtcNow(), foreign, null, cancellationToken);
            return foreign;
        }

        GatewayObservation observation;
        string source;
        TimelineEntry? received = null;
        if (inboxEvent.Source == InboxSource.Poll)
        {
            observation = ObservationJson.Read(inboxEvent.ObservationJson!);
            source = $"status check ({inboxEvent.EventType})";
        }
        else if (inboxEvent.Source == InboxSource.Webhook)
        {
            observation = ObservationJson.Read(inboxEvent.ObservationJson!);
            source = $"webhook {inboxEvent.EventType} ({inboxEvent.DedupeKey})";
            // Written with the verify step below (one command, still ahead of the transition's entries).
            received = new TimelineEntry(clock.GetUtcNow(), "webhook.received", $"Webhook {inboxEvent.EventType} from {inboxEvent.Gateway}.",
                Json.Serialize(new { event_id = inboxEvent.DedupeKey, inbox_event_id = inboxEvent.Id }));
        }
        else
        {
            // A callback is a hint: ask the gateway what really happened.
            var gateway = await gateways.ResolveAsync(order.MerchantId, inboxEvent.Gateway, cancellationToken)
                ?? throw new InvalidOperationException($"Gateway {inboxEvent.Gateway} is not registered or has no credentials for merchant {order.MerchantId}.");
            await store.AppendTimelineAsync(attempt.OrderId, new TimelineEntry(clock.GetUtcNow(), "callback.received",
                $"Customer returned from {gateway.Name} ({inboxEvent.EventType}); fetching the status."), cancellationToken);
            try
            {
                observation = await gateway.GetStatusAsync(attempt.GatewayReference, cancellationToken);
            }
            catch (GatewayUnavailableException ex)
            {
                var retryAt = clock.GetUtcNow() + RetryDelay(inboxEvent.Attempts);
                await store.AppendTimelineAsync(attempt.OrderId, new TimelineEntry(clock.GetUtcNow(), "gateway.status_unavailable",
                    $"Could not fetch the status from {gateway.Name}: {ex.Message}. Retrying at {retryAt:O}."), cancellationToken);
                await store.DeferInboxEventAsync(inboxEvent.Id, retryAt, ex.Message, cancellationToken);
                return "deferred";
            }
            source = $"status fetch after callback";
            await store.AppendTimelineAsync(attempt.OrderId, new TimelineEntry(clock.GetUtcNow(), "gateway.status_fetched",
                $"{gateway.Name} reports {observation.Status.ToString().ToLowerInvariant()}."), cancellationToken);
        }

        var started = clock.GetUtcNow();
        var verify = new StepRecord(attempt.OrderId, "verify", inboxEvent.Attempts, started, started, "ok",
            inboxEvent.Source == InboxSource.Webhook ? null : "status fetched from the gateway");
        // The order as the claim read it, the verify step, and the event's completion go with the decision and its write
        // (ADR 19): one round trip where there were four.
        return await apply.HandleAsync(attempt, observation, source,
            new InboxEventWrites(inboxEvent.Id, inboxEvent.Attempts, started, verify, received,
                // A callback fetched the status over HTTP since the claim: its decision reads the order afresh.
                inboxEvent.Source == InboxSource.Callback ? null : (order, merchant)), cancellationToken);
    }
}
