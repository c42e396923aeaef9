using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Dashboard;

/// <summary>
/// "Retry fulfilment now": a fulfilment waiting out its backoff after a failure runs at once instead of
/// at its scheduled time. A fulfilment that already ended (done, or refused and refunded) cannot be
/// retried: the customer may already have their money back.
/// </summary>
public sealed class RetryFulfilment(IClearflowStore store, TimeProvider clock)
{
    public async Task<Result<string>> HandleAsync(OperatorIdentity who, string orderId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(who);
        var order = await store.GetOrderAsync(orderId, cancellationToken);
        if (order is null || order.MerchantId != who.MerchantId)
        {
            return Problem.NotFound("Order", orderId);
        }
        var now = clock.GetUtcNow();
        if (!await store.ExpediteOrderTaskAsync(orderId, OrderTaskRecord.Fulfil, now, cancellationToken))
        {
            return Problem.Conflict("nothing-to-retry",
                "This order has no fulfilment waiting to be retried: it has not failed yet, is running now, or has ended (done, or refunded).");
        }
        await store.AppendTimelineAsync(orderId, new TimelineEntry(now, "operator.retry_fulfilment", $"{who.Email} asked to retry fulfilment now."), cancellationToken);
        return "fulfilment retry scheduled now";
    }
}
