using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Notifications;
using Clearflow.Application.Orders.GetOrder;
using Clearflow.Application.Refunds;

namespace Clearflow.Application.Dashboard;

/// <summary>Everything about one order for the operator: the order and its timeline, pipeline, refunds, ledger, deliveries and audit.</summary>
public sealed class GetOrderDetail(IClearflowStore store, GetOrder getOrder, GetRefunds refunds, DeliveryHistory deliveries)
{
    public sealed record Detail(GetOrder.OrderView Order, IReadOnlyList<OrderTaskRecord> Tasks, IReadOnlyList<RefundView> Refunds,
        IReadOnlyList<LedgerEntryRecord> Ledger, IReadOnlyList<DeliveryHistory.DeliveryView> Deliveries, IReadOnlyList<AuditRecord> Audit);

    public async Task<Result<Detail>> HandleAsync(string merchantId, string orderId, CancellationToken cancellationToken)
    {
        var order = await getOrder.HandleAsync(orderId, new OrderReader.Merchant(merchantId), cancellationToken);
        if (!order.IsSuccess)
        {
            return order.Error!;
        }
        var refundList = await refunds.ListAsync(merchantId, orderId, cancellationToken);
        return new Detail(order.Value!, await store.ListOrderTasksAsync(orderId, cancellationToken), refundList.Value ?? [],
            await store.ListLedgerEntriesAsync(merchantId, orderId, cancellationToken), await deliveries.ForOrderAsync(merchantId, orderId, cancellationToken),
            await store.ListAuditAsync(merchantId, orderId, 200, cancellationToken));
    }
}
