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
/// Like <see cref="ApplyGatewayObservation"/>, every move it makes is guarded by exactly the status it was
/// decided on. When another signal moved the order in between, the order is read again and the follow-up
/// decided anew, so the timeline's "from" is the status the order left, and an order that is still open
/// always gets its next check (a lost expiry must not leave an order that is merely pending unchecked).
/// </summary>
public sealed class CheckOrderStatus(IClearflowStore store, IGatewayRegistry gateways, ProcessInboxEvent processInbox, IdGenerator ids, TimeProvider clock)
{
    private const int Rounds = 5;

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
            return await FollowUpAsync(order.Id, null, current => StatusCheckPolicy.AfterAnswer(current.Status, null, current.CreatedAt, startedAt, current.CheckCount, now, schedule),
                "no gateway payment", trigger, answered: true, cancellationToken);
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
        // Like every outcome signal, the answer goes through the inbox; it is processed here and now, on the lease and the
        // reads it was stored with (ADR 23). Its dedupe key is its own id, so it is always stored.
        var inboxId = ids.New(Domain.Orders.IdPrefixes.InboxEvent);
        var stored = await processInbox.StoreLeasedAsync(new InboxEventRecord(inboxId, InboxSource.Poll, gateway.Name, "poll-" + inboxId, attempt.GatewayReference,
            order.Id, trigger, ObservationJson.Write(observation), null, clock.GetUtcNow(), 0, null, null), cancellationToken);
        var outcome = (stored is null ? null : await processInbox.HandleLeasedAsync(stored, cancellationToken)) ?? "processed elsewhere";
        var answeredAt = clock.GetUtcNow();
        var followed = await FollowUpAsync(order.Id, attempt,
            current => StatusCheckPolicy.AfterAnswer(current.Status, observation.Status, current.CreatedAt, startedAt, current.CheckCount + 1, answeredAt, schedule),
            answer, trigger, answered: true, cancellationToken);
        return $"{outcome}; {followed}";
    }

    private async Task<string> GatewayUnreachableAsync(OrderRecord order, AttemptRecord attempt, CheckSchedule schedule, DateTimeOffset startedAt, string error,
        string trigger, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var reason = $"{order.Gateway} could not be asked: {error}";
        for (var round = 0; ; round++)
        {
            var current = await ReadAsync(order.Id, cancellationToken);
            if (current.Status is not (OrderStatus.Created or OrderStatus.Pending))
            {
                await store.AppendTimelineAsync(order.Id, new TimelineEntry(now, "gateway.status_unavailable", $"{reason} ({trigger})."), cancellationToken);
                break;
            }
            if (await store.TryTransitionAsync(new StatusTransition(order.Id, current.Status, OrderStatus.Unknown, reason, null, attempt.Id, null,
                    new TimelineEntry(now, "status.changed", $"{current.Status.ToWire()} -> unknown: {reason} ({trigger}). Asking again with backoff.",
                        Json.Serialize(new { from = current.Status.ToWire(), to = "unknown", reason }))), cancellationToken))
            {
                break;
            }
            KeepsChanging(order.Id, round);
        }
        var followed = await FollowUpAsync(order.Id, attempt,
            current => StatusCheckPolicy.AfterFailure(current.Status, startedAt, current.CheckFailures + 1, now, schedule, error),
            "unreachable: " + error, trigger, answered: false, cancellationToken);
        return "unreachable; " + followed;
    }

    /// <summary>
    /// Reads the order, decides what follows from what it is now, and applies it. A move that loses to another
    /// signal is decided again on the status that won (which may need no move at all, or only a next check).
    /// </summary>
    private async Task<string> FollowUpAsync(string orderId, AttemptRecord? attempt, Func<OrderRecord, CheckFollowUp> decide, string lastAnswer, string trigger,
        bool answered, CancellationToken cancellationToken)
    {
        for (var round = 0; ; round++)
        {
            var current = await ReadAsync(orderId, cancellationToken);
            var now = clock.GetUtcNow();
            DateTimeOffset? nextCheckAt = null;
            string result;
            switch (decide(current))
            {
                case CheckFollowUp.CheckAgain again:
                    nextCheckAt = again.At;
                    result = $"next check at {again.At:O}";
                    break;
                case CheckFollowUp.Expire expire:
                    if (!await store.TryTransitionAsync(new StatusTransition(current.Id, current.Status, OrderStatus.Expired, expire.Reason, null, attempt?.Id,
                            attempt is null ? null : "expired",
                            new TimelineEntry(now, "status.changed", $"{current.Status.ToWire()} -> expired: {expire.Reason} ({trigger}).",
                                Json.Serialize(new { from = current.Status.ToWire(), to = "expired", reason = expire.Reason }))), cancellationToken))
                    {
                        KeepsChanging(orderId, round);
                        continue;
                    }
                    result = "expired";
                    break;
                case CheckFollowUp.Review review:
                    if (!await store.TryTransitionAsync(ReviewTransition.For(current, review.Reason, attempt?.Id, trigger, now), cancellationToken))
                    {
                        KeepsChanging(orderId, round);
                        continue;
                    }
                    result = "requires_review";
                    break;
                default:
                    result = round == 0 ? "no more checks" : $"no more checks: another signal made the order {current.Status.ToWire()} first";
                    break;
            }
            await store.RecordStatusCheckAsync(new StatusCheckRecord(current.Id, now, answered, lastAnswer, nextCheckAt), cancellationToken);
            return result;
        }
    }

    private async Task<OrderRecord> ReadAsync(string orderId, CancellationToken cancellationToken) =>
        await store.GetOrderAsync(orderId, cancellationToken) ?? throw new InvalidOperationException($"Order {orderId} disappeared during its status check.");

    /// <summary>
    /// Gives up after a few lost races in a row. The check then fails; the poller keeps the claim's lease time as the
    /// order's next check, so it is checked again.
    /// </summary>
    private static void KeepsChanging(string orderId, int round)
    {
        if (round + 1 >= Rounds)
        {
            throw new InvalidOperationException($"Order {orderId} kept changing under {Rounds} consecutive status-check decisions.");
        }
    }
}
