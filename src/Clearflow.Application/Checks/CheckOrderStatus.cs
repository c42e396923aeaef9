using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Application.Payments;
using Clearflow.Domain.Checks;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Checks;

/// <summary>
/// Asks the gateway where one order's payment stands, applies the answer like any other signal, and
/// decides what follows (<see cref="StatusCheckPolicy"/>): the next check, expiry, or review. A gateway
/// that cannot be asked makes the order <c>unknown</c>, never failed.
/// </summary>
public sealed class CheckOrderStatus(IClearflowStore store, IGatewayRegistry gateways, ProcessInboxEvent processInbox, IdGenerator ids, TimeProvider clock)
{
    /// <param name="trigger">who asked: "poll", "operator re-check", "end-of-day sweep"</param>
    /// <returns>What happened, in words for logs.</returns>
    public async Task<string> HandleAsync(string orderId, string trigger, CancellationToken cancellationToken)
    {
        var order = await store.GetOrderAsync(orderId, cancellationToken);
        if (order is null)
        {
            return "no such order";
        }
        var merchant = await store.GetMerchantAsync(order.MerchantId, cancellationToken)
            ?? throw new InvalidOperationException($"Order {order.Id} belongs to missing merchant {order.MerchantId}.");
        var schedule = MerchantSettings.Parse(merchant.SettingsJson).ScheduleFor(order.Gateway);
        var startedAt = order.ChecksStartedAt ?? order.CreatedAt;
        var attempt = (await store.GetAttemptsAsync(order.Id, cancellationToken)).LastOrDefault();
        var now = clock.GetUtcNow();

        if (attempt is null)
        {
            // The gateway never created a payment: nothing to ask, only expiry to wait for.
            var followUp = StatusCheckPolicy.AfterAnswer(order.Status, null, order.CreatedAt, startedAt, order.CheckCount, now, schedule);
            return await FollowUpAsync(order, null, followUp, "no gateway payment", trigger, answered: true, cancellationToken);
        }

        var gateway = await gateways.ResolveAsync(order.MerchantId, order.Gateway, cancellationToken)
            ?? throw new InvalidOperationException($"Gateway {order.Gateway} is not registered or has no credentials for merchant {order.MerchantId}.");
        GatewayObservation observation;
        try
        {
            observation = await gateway.GetStatusAsync(attempt.GatewayReference, cancellationToken);
        }
        catch (Exception ex) when (ex is GatewayUnavailableException or GatewayRejectedException)
        {
            return await GatewayUnreachableAsync(order, attempt, schedule, startedAt, ex.Message, trigger, cancellationToken);
        }

        var answer = observation.Status.ToString().ToLowerInvariant();
        if (answer != order.LastGatewayStatus || trigger != "poll" || order.CheckFailures > 0)
        {
            // Every poll is recorded on the order; the timeline shows only what is news.
            await store.AppendTimelineAsync(order.Id, new TimelineEntry(now, "gateway.status_fetched",
                $"{gateway.Name} reports {answer} ({trigger}).", Json.Serialize(new { answer, trigger, amount = observation.AmountMinor })), cancellationToken);
        }
        // Like every outcome signal, the answer goes through the inbox; it is processed here and now.
        var inboxId = ids.New(Domain.Orders.IdPrefixes.InboxEvent);
        await store.InsertInboxEventAsync(new InboxEventRecord(inboxId, InboxSource.Poll, gateway.Name, "poll-" + inboxId, attempt.GatewayReference, order.Id,
            trigger, ObservationJson.Write(observation), null, clock.GetUtcNow(), 0, null, null), cancellationToken);
        var outcome = await processInbox.HandleAsync(inboxId, cancellationToken) ?? "processed elsewhere";
        var current = await store.GetOrderAsync(order.Id, cancellationToken) ?? order;
        var next = StatusCheckPolicy.AfterAnswer(current.Status, observation.Status, current.CreatedAt, startedAt, current.CheckCount + 1, clock.GetUtcNow(), schedule);
        var followed = await FollowUpAsync(current, attempt, next, answer, trigger, answered: true, cancellationToken);
        return $"{outcome}; {followed}";
    }

    private async Task<string> GatewayUnreachableAsync(OrderRecord order, AttemptRecord attempt, CheckSchedule schedule, DateTimeOffset startedAt, string error,
        string trigger, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var reason = $"{order.Gateway} could not be asked: {error}";
        if (order.Status is OrderStatus.Created or OrderStatus.Pending)
        {
            await store.TryTransitionAsync(new StatusTransition(order.Id, [OrderStatus.Created, OrderStatus.Pending], OrderStatus.Unknown, reason, null, attempt.Id, null,
                new TimelineEntry(now, "status.changed", $"{order.Status.ToWire()} -> unknown: {reason} ({trigger}). Asking again with backoff.",
                    Json.Serialize(new { from = order.Status.ToWire(), to = "unknown", reason }))), cancellationToken);
        }
        else
        {
            await store.AppendTimelineAsync(order.Id, new TimelineEntry(now, "gateway.status_unavailable", $"{reason} ({trigger})."), cancellationToken);
        }
        var current = await store.GetOrderAsync(order.Id, cancellationToken) ?? order;
        var next = StatusCheckPolicy.AfterFailure(current.Status, startedAt, current.CheckFailures + 1, now, schedule, error);
        return "unreachable; " + await FollowUpAsync(current, attempt, next, "unreachable: " + error, trigger, answered: false, cancellationToken);
    }

    private async Task<string> FollowUpAsync(OrderRecord order, AttemptRecord? attempt, CheckFollowUp followUp, string lastAnswer, string trigger, bool answered,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        DateTimeOffset? nextCheckAt = null;
        string result;
        switch (followUp)
        {
            case CheckFollowUp.CheckAgain again:
                nextCheckAt = again.At;
                result = $"next check at {again.At:O}";
                break;
            case CheckFollowUp.Expire expire:
                var expired = await store.TryTransitionAsync(new StatusTransition(order.Id, [OrderStatus.Created, OrderStatus.Pending, OrderStatus.Unknown],
                    OrderStatus.Expired, expire.Reason, null, attempt?.Id, attempt is null ? null : "expired",
                    new TimelineEntry(now, "status.changed", $"{order.Status.ToWire()} -> expired: {expire.Reason} ({trigger}).",
                        Json.Serialize(new { from = order.Status.ToWire(), to = "expired", reason = expire.Reason }))), cancellationToken);
                result = expired ? "expired" : "expiry lost a race";
                break;
            case CheckFollowUp.Review review:
                var reviewed = await store.TryTransitionAsync(new StatusTransition(order.Id, OrderStateMachine.PredecessorsOf(OrderStatus.RequiresReview),
                    OrderStatus.RequiresReview, review.Reason, null, attempt?.Id, null,
                    new TimelineEntry(now, "status.changed", $"{order.Status.ToWire()} -> requires_review: {review.Reason} ({trigger}). Operators notified.",
                        Json.Serialize(new { from = order.Status.ToWire(), to = "requires_review", reason = review.Reason })))
                {
                    Notifications = [OperatorNotices.RequiresReview(order, review.Reason, now), .. OrderNotices.ForStatus(order, OrderStatus.RequiresReview, now)],
                }, cancellationToken);
                result = reviewed ? "requires_review" : "review lost a race";
                break;
            default:
                result = "no more checks";
                break;
        }
        await store.RecordStatusCheckAsync(new StatusCheckRecord(order.Id, now, answered, lastAnswer, nextCheckAt), cancellationToken);
        return result;
    }
}
