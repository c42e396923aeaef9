using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Ledger;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Refunds;

/// <summary>Records a refund's final answer from the gateway: once, with its ledger posting and notices.</summary>
public sealed class FinishRefund(IClearflowStore store, TimeProvider clock)
{
    public async Task<bool> HandleAsync(RefundRecord refund, OrderRecord order, bool succeeded, string? failureReason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refund);
        ArgumentNullException.ThrowIfNull(order);
        var now = clock.GetUtcNow();
        var final = refund with { Status = succeeded ? "succeeded" : "failed", FailureReason = failureReason };
        var entry = succeeded
            ? new TimelineEntry(now, "refund.succeeded", $"Refund {refund.Id} of {refund.Amount} {refund.Currency} (minor units) succeeded at {order.Gateway}.")
            : new TimelineEntry(now, "refund.failed", $"Refund {refund.Id} of {refund.Amount} {refund.Currency} failed at {order.Gateway}: {failureReason}. The amount is refundable again.");
        return await store.CompleteRefundAsync(new RefundCompletion(refund.Id, succeeded, failureReason, now, entry)
        {
            Ledger = succeeded ? LedgerRules.Refund(order.MerchantId, order.Id, refund.Id, order.Gateway, refund.Amount, refund.Currency) : null,
            Notifications = OrderNotices.ForRefund(order, final, succeeded ? "succeeded" : "failed", now),
            NotificationsByOrderStatus = succeeded
                ? new Dictionary<string, IReadOnlyList<OutboxMessage>>
                {
                    ["refunded"] = OrderNotices.ForStatus(order, OrderStatus.Refunded, now, $"refund {refund.Id}", refund.Id),
                    ["partially_refunded"] = OrderNotices.ForStatus(order, OrderStatus.PartiallyRefunded, now, $"refund {refund.Id}", refund.Id),
                }
                : new Dictionary<string, IReadOnlyList<OutboxMessage>>(),
        }, cancellationToken);
    }
}
