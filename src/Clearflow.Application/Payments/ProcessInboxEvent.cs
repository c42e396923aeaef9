using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// Runs one inbox event through verify and transition. Claimed with a lease so two workers never
/// process the same event at once; a crash leaves the lease to expire and the event is taken again.
/// Every path (webhook, callback, later poller and sweep) ends in <see cref="ApplyAsync"/>, so the
/// result is the same whichever signal arrives first, twice, late, or never.
/// </summary>
public sealed class ProcessInboxEvent(IClearflowStore store, IGatewayRegistry gateways, TimeProvider clock)
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    /// <summary>Backoff for events that could not be processed (gateway unreachable): 5 s doubling, at most 15 min.</summary>
    public static TimeSpan RetryDelay(int attempts) => TimeSpan.FromSeconds(Math.Min(900, 5 * Math.Pow(2, Math.Min(attempts, 10))));

    /// <summary>Processes the event if it is still due; returns what happened, or null when it was not ours to take.</summary>
    public async Task<string?> HandleAsync(string inboxEventId, CancellationToken cancellationToken)
    {
        var inboxEvent = await store.TryClaimInboxEventAsync(inboxEventId, clock.GetUtcNow(), Lease, cancellationToken);
        if (inboxEvent is null)
        {
            return null;
        }

        var attempt = await store.FindAttemptByReferenceAsync(inboxEvent.Gateway, inboxEvent.GatewayReference, cancellationToken);
        if (attempt is null || (inboxEvent.OrderId is not null && inboxEvent.OrderId != attempt.OrderId))
        {
            // Signed by the gateway but about nothing we know (another installation, a deleted test order).
            // Kept in the inbox for audit; there is nothing to move.
            const string unmatched = "unmatched: no order has this gateway reference";
            await store.CompleteInboxEventAsync(inboxEvent.Id, clock.GetUtcNow(), unmatched, cancellationToken);
            return unmatched;
        }

        GatewayObservation observation;
        string source;
        if (inboxEvent.Source == InboxSource.Webhook)
        {
            observation = ObservationJson.Read(inboxEvent.ObservationJson!);
            source = $"webhook {inboxEvent.EventType} ({inboxEvent.DedupeKey})";
            await store.AppendTimelineAsync(attempt.OrderId, new TimelineEntry(clock.GetUtcNow(), "webhook.received",
                $"Webhook {inboxEvent.EventType} from {inboxEvent.Gateway}.",
                Json.Serialize(new { event_id = inboxEvent.DedupeKey, inbox_event_id = inboxEvent.Id })), cancellationToken);
        }
        else
        {
            // A callback is a hint: ask the gateway what really happened.
            var gateway = gateways.Find(inboxEvent.Gateway) ?? throw new InvalidOperationException($"Gateway {inboxEvent.Gateway} is not registered.");
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

        var outcome = await ApplyAsync(attempt, observation, source, cancellationToken);
        await store.CompleteInboxEventAsync(inboxEvent.Id, clock.GetUtcNow(), outcome, cancellationToken);
        return outcome;
    }

    /// <summary>
    /// Decides and applies one observation. The conditional update may lose a race with another
    /// signal; then the order is read again and the decision made anew against what won.
    /// </summary>
    public async Task<string> ApplyAsync(AttemptRecord attempt, GatewayObservation observation, string source, CancellationToken cancellationToken)
    {
        for (var round = 0; round < 5; round++)
        {
            var order = await store.GetOrderAsync(attempt.OrderId, cancellationToken)
                ?? throw new InvalidOperationException($"Attempt {attempt.Id} points at missing order {attempt.OrderId}.");
            var decision = OutcomeDecider.Decide(order.Status, order.Amount, order.Currency, observation);
            var now = clock.GetUtcNow();
            switch (decision)
            {
                case OutcomeDecision.Ignore ignore:
                    await store.AppendTimelineAsync(order.Id, new TimelineEntry(now, "event.ignored", $"Ignored {source}: {ignore.Reason}."), cancellationToken);
                    return "ignored: " + ignore.Reason;

                case OutcomeDecision.Review review:
                    if (await store.TryTransitionAsync(new StatusTransition(order.Id, OrderStateMachine.PredecessorsOf(OrderStatus.RequiresReview),
                            OrderStatus.RequiresReview, review.Reason, null, attempt.Id, null,
                            new TimelineEntry(now, "status.changed", $"{order.Status.ToWire()} -> requires_review: {review.Reason} ({source}).",
                                Json.Serialize(new { from = order.Status.ToWire(), to = "requires_review", reason = review.Reason }))), cancellationToken))
                    {
                        return "requires_review: " + review.Reason;
                    }
                    break;

                case OutcomeDecision.Move move:
                    var paid = move.To == OrderStatus.Succeeded ? observation.AmountMinor ?? order.Amount : (long?)null;
                    var message = $"{order.Status.ToWire()} -> {move.To.ToWire()}: {move.Reason} ({source}).";
                    if (move.IsLateSuccess)
                    {
                        message += " The customer's money moved after the order was closed: compensation is needed.";
                    }
                    if (await store.TryTransitionAsync(new StatusTransition(order.Id, move.From, move.To, move.Reason, paid, attempt.Id, move.To.ToWire(),
                            new TimelineEntry(now, move.IsLateSuccess ? "status.late_success" : "status.changed", message,
                                Json.Serialize(new { from = order.Status.ToWire(), to = move.To.ToWire(), reason = move.Reason, late_success = move.IsLateSuccess }))), cancellationToken))
                    {
                        return move.To.ToWire();
                    }
                    break;
            }
        }
        throw new InvalidOperationException($"Order {attempt.OrderId} kept changing under five consecutive decisions.");
    }
}
