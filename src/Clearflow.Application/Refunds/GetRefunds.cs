using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Refunds;

/// <summary><c>GET /v1/orders/{id}/refunds</c> and <c>GET /v1/orders/{id}/refunds/{refundId}</c>.</summary>
public sealed class GetRefunds(IClearflowStore store)
{
    public async Task<Result<IReadOnlyList<RefundView>>> ListAsync(string merchantId, string orderId, CancellationToken cancellationToken)
    {
        var order = await store.GetOrderAsync(orderId, cancellationToken);
        if (order is null || order.MerchantId != merchantId)
        {
            return Problem.NotFound("Order", orderId);
        }
        return (await store.ListRefundsAsync(orderId, cancellationToken)).Select(RefundView.From).ToList();
    }

    public async Task<Result<RefundView>> GetAsync(string merchantId, string orderId, string refundId, CancellationToken cancellationToken)
    {
        var refund = await store.GetRefundAsync(refundId, cancellationToken);
        if (refund is null || refund.MerchantId != merchantId || refund.OrderId != orderId)
        {
            return Problem.NotFound("Refund", refundId);
        }
        return RefundView.From(refund);
    }
}
