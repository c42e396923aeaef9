using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Orders.GetOrder;

namespace Clearflow.Application.Checks;

/// <summary><c>POST /v1/orders/{id}/recheck</c>: an operator asks the gateway now, whatever the schedule says.</summary>
public sealed class RecheckOrder(IOrderStore store, CheckOrderStatus check, GetOrder getOrder)
{
    public async Task<Result<GetOrder.OrderView>> HandleAsync(string merchantId, string orderId, CancellationToken cancellationToken)
    {
        var order = await store.GetOrderAsync(orderId, cancellationToken);
        if (order is null || order.MerchantId != merchantId)
        {
            return Problem.NotFound("Order", orderId);
        }
        await check.HandleAsync(orderId, "operator re-check", cancellationToken);
        return await getOrder.HandleAsync(orderId, new OrderReader.Merchant(merchantId), cancellationToken);
    }
}
