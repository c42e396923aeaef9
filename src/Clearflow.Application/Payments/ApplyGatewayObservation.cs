using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Ledger;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// Decides and applies what a gateway says about a payment, whoever heard it (webhook, callback's
/// status fetch, poller, end-of-day sweep, operator re-check). The conditional update is guarded by exactly
/// the status the decision was made on, so it loses a race with any other signal that moved the order since
/// (even one the decision would survive, such as created -> pending before a success): then the order is read
/// again and the decision made anew against what won, and the timeline's "from" is always the status it left.
/// </summary>
public sealed class ApplyGatewayObservation(IClearflowStore store, IdGenerator ids, TimeProvider clock)
{
    /// <param name="inbox">
    /// The inbox event the observation came from: its records, and its completion, go with the decision's write (ADR 19). Null for none.
    /// </param>
    /// <returns>What happened, for logs and the inbox: the new status, "ignored: ...", or "requires_review: ...".</returns>
    public async Task<string> HandleAsync(AttemptRecord attempt, GatewayObservation observation, string source, InboxEventWrites? inbox,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        // Written with the first write of a round, whatever it decides; not again in a later round.
        var prior = inbox is null ? null : new PriorRecords(inbox.Verify, inbox.Received);
        for (var round = 0; round < 5; round++)
        {
            // With the merchant, as stored now: a success applies its late-success policy (ADR 12). One read either way; the
            // first decision on an inbox event uses the read its claim made (the move is guarded by the status it saw).
            var (order, merchant) = (round == 0 ? inbox?.ClaimedWith : null) ?? await store.GetOrderWithMerchantAsync(attempt.OrderId, cancellationToken)
                ?? throw new InvalidOperationException($"Attempt {attempt.Id} points at missing order {attempt.OrderId}.");
            var decision = OutcomeDecider.Decide(order.Status, order.Amount, order.Currency, observation);
            var now = clock.GetUtcNow();
            StatusTransition transition;
            string outcome;
            switch (decision)
            {
                case OutcomeDecision.Ignore ignore:
                    var ignored = new TimelineEntry(now, "event.ignored", $"Ignored {source}: {ignore.Reason}.");
                    outcome = "ignored: " + ignore.Reason;
                    if (inbox is null)
                    {
                        await store.AppendTimelineAsync(order.Id, ignored, cancellationToken);
                        return outcome;
                    }
                    // A webhook and a callback about the same payment: one of them usually ends here. One command for all of it.
                    await store.RecordIgnoredAsync(order.Id, prior, ignored, Completion(inbox, order.Id, outcome, now), cancellationToken);
                    return outcome;

                case OutcomeDecision.Review review:
                    transition = ReviewTransition.For(order, review.Reason, attempt.Id, source, now);
                    outcome = "requires_review: " + review.Reason;
                    break;

                case OutcomeDecision.Move move:
                    var paid = move.To == OrderStatus.Succeeded ? observation.AmountMinor ?? order.Amount : (long?)null;
                    var message = $"{order.Status.ToWire()} -> {move.To.ToWire()}: {move.Reason} ({source}).";
                    if (move.IsLateSuccess)
                    {
                        message += " The customer's money moved after the order was closed: flagged for compensation.";
                    }
                    transition = new StatusTransition(order.Id, order.Status, move.To, move.Reason, paid, attempt.Id, move.To.ToWire(),
                        new TimelineEntry(now, move.IsLateSuccess ? "status.late_success" : "status.changed", message,
                            Json.Serialize(new { from = order.Status.ToWire(), to = move.To.ToWire(), reason = move.Reason, late_success = move.IsLateSuccess })))
                    {
                        RequiresCompensation = move.IsLateSuccess,
                        Notifications = OrderNotices.ForStatus(order, move.To, now, move.Reason),
                    };
                    if (move.To == OrderStatus.Succeeded)
                    {
                        var refundLate = move.IsLateSuccess && MerchantSettings.Parse(merchant.SettingsJson).LateSuccessPolicy == "refund";
                        transition = WithCapture(transition, order, attempt, paid!.Value, refundLate, now);
                    }
                    outcome = move.To.ToWire();
                    break;

                default:
                    throw new InvalidOperationException($"Unknown decision {decision}.");
            }
            var moved = await store.TryTransitionAsync(transition with
            {
                Prior = prior,
                Completes = inbox is null ? null : Completion(inbox, order.Id, outcome, now),
            }, cancellationToken);
            prior = null; // written with the transition, moved or not
            if (moved)
            {
                return outcome;
            }
        }
        throw new InvalidOperationException($"Order {attempt.OrderId} kept changing under five consecutive decisions.");
    }

    private static InboxCompletion Completion(InboxEventWrites inbox, string orderId, string outcome, DateTimeOffset now) =>
        new(inbox.InboxEventId, now, outcome, new StepRecord(orderId, "transition", inbox.Attempt, inbox.Started, now, outcome, null));

    /// <summary>
    /// Money moved: post the capture and queue what follows, in the transition's own transaction. A late
    /// success is refunded (<paramref name="refundLate"/>: the default policy) or accepted and fulfilled, as the merchant chose.
    /// </summary>
    internal StatusTransition WithCapture(StatusTransition transition, OrderRecord order, AttemptRecord attempt, long paid, bool refundLate, DateTimeOffset now)
    {
        var next = refundLate
            ? new OrderTaskRecord(ids.New("tsk_"), order.Id, OrderTaskRecord.Compensate, "pending", "late success after the order was " + order.Status.ToWire(), 0, now, null, now, null)
            : new OrderTaskRecord(ids.New("tsk_"), order.Id, OrderTaskRecord.Fulfil, "pending", null, 0, now, null, now, null);
        return transition with
        {
            Ledger = LedgerRules.Capture(order.MerchantId, order.Id, attempt.Gateway, paid, order.Currency),
            Tasks = [next],
        };
    }
}

/// <summary>
/// The inbox event an observation came from, and what its processing records: the verify step and (for a webhook) the
/// "webhook received" entry, written with the decision's write; the transition step, written with a move. The order and
/// its merchant as the event's claim read them, for the first decision (ADR 19).
/// </summary>
public sealed record InboxEventWrites(string InboxEventId, int Attempt, DateTimeOffset Started, StepRecord Verify, TimelineEntry? Received,
    (OrderRecord Order, MerchantRecord Merchant)? ClaimedWith);
