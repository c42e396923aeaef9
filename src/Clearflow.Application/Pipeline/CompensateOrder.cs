using Clearflow.Application.Abstractions;
using Clearflow.Application.Refunds;

namespace Clearflow.Application.Pipeline;

/// <summary>
/// The compensate step: the customer paid but will not get what they paid for (fulfilment failed for
/// good, or the success came after the order was closed), so everything still refundable is refunded.
/// The refund's idempotency key is fixed per order ("compensation"), so a retried or resumed step finds
/// the refund it started instead of making another. Its status is then tracked by the refund checks.
/// </summary>
public sealed class CompensateOrder(IClearflowStore store, SubmitRefund submit, IPipelineFaults faults, TimeProvider clock)
{
    public const string RefundKey = "compensation";

    public async Task<string> HandleAsync(OrderTaskRecord task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var order = (await store.GetOrderAsync(task.OrderId, cancellationToken))!;
        var started = clock.GetUtcNow();
        var existing = (await store.ListRefundsAsync(order.Id, cancellationToken)).FirstOrDefault(r => r.IdempotencyKey == RefundKey);
        var remaining = order.AmountPaid - order.AmountRefundReserved;
        if (existing is null && remaining <= 0)
        {
            await store.CompleteOrderTaskAsync(task, "done", clock.GetUtcNow(), null,
                new TimelineEntry(clock.GetUtcNow(), "compensation.skipped", "Compensation needed, but nothing is left to refund."), [], [],
                new StepRecord(order.Id, "compensate", task.Attempts, started, clock.GetUtcNow(), "skipped", "nothing left to refund"), cancellationToken);
            return "skipped";
        }

        var result = await submit.HandleAsync(order, existing?.Amount ?? remaining, "automatic", task.Reason, RefundKey, cancellationToken);
        faults.At("compensate.refund_submitted");
        var now = clock.GetUtcNow();
        if (!result.IsSuccess)
        {
            await store.CompleteOrderTaskAsync(task, "failed", now, result.Error!.Detail,
                new TimelineEntry(now, "compensation.failed", $"Could not refund: {result.Error.Detail}"), [], [],
                new StepRecord(order.Id, "compensate", task.Attempts, started, now, "failed", result.Error.Detail), cancellationToken);
            return "failed";
        }
        var refund = result.Value!.Refund;
        await store.CompleteOrderTaskAsync(task, "done", now, null,
            new TimelineEntry(now, "compensation.refund_submitted", $"Refund {refund.Id} of {refund.Amount} {refund.Currency} (minor units) is {refund.Status}: {task.Reason}."),
            [], [], new StepRecord(order.Id, "compensate", task.Attempts, started, now, "refund " + refund.Status, null), cancellationToken);
        return "refund " + refund.Status;
    }
}
