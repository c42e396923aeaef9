using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Payments;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Dashboard;

/// <summary>
/// Closes an order that waits in <c>requires_review</c>, with the operator's note. "succeeded": the
/// operator confirmed at the gateway that the order's amount was taken; the capture is posted and
/// fulfilment queued exactly as for a gateway success. "failed": no money moved. The move is
/// conditional like every other, so a gateway answer arriving at the same moment cannot be overwritten.
/// </summary>
public sealed class ResolveReview(IClearflowStore store, ApplyGatewayObservation capture, TimeProvider clock)
{
    public async Task<Result<string>> HandleAsync(OperatorIdentity who, string orderId, string? outcome, string? note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(who);
        if (outcome is not ("succeeded" or "failed"))
        {
            return Problem.Validation("outcome", "Either 'succeeded' (you confirmed the payment at the gateway) or 'failed' (no money moved).");
        }
        if (AuditedAction.RequireReason(note) is { } missing)
        {
            return missing;
        }
        var order = await store.GetOrderAsync(orderId, cancellationToken);
        if (order is null || order.MerchantId != who.MerchantId)
        {
            return Problem.NotFound("Order", orderId);
        }
        if (order.Status != OrderStatus.RequiresReview)
        {
            return Problem.Conflict("not-in-review", $"The order is {order.Status.ToWire()}, not requires_review: there is nothing to resolve.");
        }
        var now = clock.GetUtcNow();
        var to = outcome == "succeeded" ? OrderStatus.Succeeded : OrderStatus.Failed;
        var reason = $"resolved by {who.Email}: {note!.Trim()}";
        var attempts = await store.GetAttemptsAsync(orderId, cancellationToken);
        var attempt = attempts.Count > 0 ? attempts[^1] : null;
        var transition = new StatusTransition(orderId, OrderStatus.RequiresReview, to, reason, to == OrderStatus.Succeeded ? order.Amount : null,
            attempt?.Id, attempt is null ? null : to.ToWire(),
            new TimelineEntry(now, "status.changed", $"requires_review -> {to.ToWire()}: {reason}.",
                Json.Serialize(new { from = "requires_review", to = to.ToWire(), reason, resolved_by = who.Email })))
        {
            Notifications = OrderNotices.ForStatus(order, to, now, reason),
        };
        if (to == OrderStatus.Succeeded)
        {
            if (attempt is null)
            {
                return Problem.Conflict("no-payment-attempt", "The order never reached a gateway, so no payment can be confirmed: resolve it as failed.");
            }
            transition = capture.WithCapture(transition, order, attempt, order.Amount, refundLate: false, now);
        }
        return await store.TryTransitionAsync(transition, cancellationToken)
            ? to.ToWire()
            : Problem.Conflict("status-changed", "The order changed while you were resolving it; reload and look again.");
    }
}
