using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Checks;

namespace Clearflow.Application.Refunds;

/// <summary>
/// Makes a refund happen, safely repeatable: reserves the amount on the order (the guard against
/// refunding more than was paid), then asks the gateway with Clearflow's refund id as idempotency key.
/// Called again with the same key (a retry, a crash, a duplicate API request), it finds the refund and
/// only finishes what is missing: it never creates a second one.
/// </summary>
public sealed class SubmitRefund(IClearflowStore store, IGatewayRegistry gateways, FinishRefund finish, IdGenerator ids, IPipelineFaults faults, TimeProvider clock)
{
    public sealed record Submitted(RefundRecord Refund, bool Created);

    public async Task<Result<Submitted>> HandleAsync(OrderRecord order, long amount, string kind, string? reason, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var now = clock.GetUtcNow();
        var candidate = new RefundRecord(ids.New("rfd_"), order.Id, order.MerchantId, amount, order.Currency, "pending", kind, reason, idempotencyKey,
            null, null, null, now, now);
        var reservation = await store.ReserveRefundAsync(candidate,
            new TimelineEntry(now, "refund.created", $"Refund {candidate.Id} of {amount} {order.Currency} (minor units) requested ({kind}{(reason is null ? "" : ": " + reason)})."),
            OrderNotices.ForRefund(order, candidate, "created", now), cancellationToken);
        RefundRecord refund;
        bool created;
        switch (reservation)
        {
            case RefundReservation.Created c:
                (refund, created) = (c.Refund, true);
                break;
            case RefundReservation.Duplicate d:
                (refund, created) = (d.Existing, false);
                break;
            case RefundReservation.NotRefundable n:
                return Problem.Conflict("order-not-refundable", n.OrderStatus == "refunded"
                    ? $"Order {order.Id} is already fully refunded."
                    : $"Order {order.Id} is {n.OrderStatus}: only paid orders (succeeded or partially_refunded) can be refunded.");
            case RefundReservation.ExceedsRefundable e:
                return new Problem(422, "refund-exceeds-refundable", "The refund is more than what is left to refund.",
                    $"At most {e.Refundable} {order.Currency} (minor units) of order {order.Id} can still be refunded; {amount} was asked.");
            default:
                throw new InvalidOperationException($"Unexpected reservation {reservation}.");
        }

        if (refund.Status == "pending" && refund.GatewayReference is null)
        {
            refund = await SendToGatewayAsync(order, refund, cancellationToken);
        }
        return new Submitted(refund, created);
    }

    /// <summary>Asks the gateway for a refund that has no gateway reference yet (first time, or again after a timeout).</summary>
    public async Task<RefundRecord> SendToGatewayAsync(OrderRecord order, RefundRecord refund, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(refund);
        var gateway = await gateways.ResolveAsync(order.MerchantId, order.Gateway, cancellationToken)
            ?? throw new InvalidOperationException($"Gateway {order.Gateway} is not registered or has no credentials for merchant {order.MerchantId}.");
        var attempt = (await store.GetAttemptsAsync(order.Id, cancellationToken)).LastOrDefault()
            ?? throw new InvalidOperationException($"Order {order.Id} was paid but has no gateway payment.");
        GatewayRefund answer;
        try
        {
            answer = await gateway.CreateRefundAsync(new CreateRefundRequest(attempt.GatewayReference, refund.Amount, refund.Currency, refund.Id), cancellationToken);
        }
        catch (GatewayUnavailableException ex)
        {
            // Unknown whether the gateway made it: ask again later with the same key.
            var retryAt = clock.GetUtcNow() + CheckSchedule.Default.FailureBackoff(1);
            await store.AppendTimelineAsync(order.Id, new TimelineEntry(clock.GetUtcNow(), "gateway.refund_unavailable",
                $"{gateway.Name} could not be asked to refund {refund.Id}: {ex.Message}. Asking again at {retryAt:O} with the same key."), cancellationToken);
            await store.RecordRefundCheckAsync(refund.Id, retryAt, cancellationToken);
            return (await store.GetRefundAsync(refund.Id, cancellationToken))!;
        }
        catch (GatewayRejectedException ex)
        {
            await finish.HandleAsync(refund, order, succeeded: false, ex.Message, cancellationToken);
            return (await store.GetRefundAsync(refund.Id, cancellationToken))!;
        }
        faults.At("refund.gateway_accepted");

        var now = clock.GetUtcNow();
        await store.SetRefundGatewayReferenceAsync(refund.Id, answer.Reference, answer.Status == "pending" ? now + CheckSchedule.Default.DelayAfter(0) : null, now, cancellationToken);
        if (answer.Status is "succeeded" or "failed")
        {
            await finish.HandleAsync(refund with { GatewayReference = answer.Reference }, order, answer.Status == "succeeded", answer.FailureReason, cancellationToken);
        }
        return (await store.GetRefundAsync(refund.Id, cancellationToken))!;
    }
}
