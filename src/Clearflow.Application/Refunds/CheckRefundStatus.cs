using Clearflow.Application.Abstractions;
using Clearflow.Application.Merchants;

namespace Clearflow.Application.Refunds;

/// <summary>Asks the gateway about a pending refund (or asks it again to make one it may not have made) until it is final.</summary>
public sealed class CheckRefundStatus(IClearflowStore store, IGatewayRegistry gateways, SubmitRefund submit, FinishRefund finish, TimeProvider clock)
{
    public async Task<string> HandleAsync(string refundId, CancellationToken cancellationToken)
    {
        var refund = await store.GetRefundAsync(refundId, cancellationToken);
        if (refund is null || refund.Status != "pending")
        {
            return "nothing to check";
        }
        var order = (await store.GetOrderAsync(refund.OrderId, cancellationToken))!;
        if (refund.GatewayReference is null)
        {
            return (await submit.SendToGatewayAsync(order, refund, cancellationToken)).Status;
        }
        var gateway = await gateways.ResolveAsync(order.MerchantId, order.Gateway, cancellationToken)
            ?? throw new InvalidOperationException($"Gateway {order.Gateway} is not registered or has no credentials for merchant {order.MerchantId}.");
        var merchant = (await store.GetMerchantAsync(order.MerchantId, cancellationToken))!;
        var schedule = MerchantSettings.Parse(merchant.SettingsJson).ScheduleFor(order.Gateway);
        GatewayRefund answer;
        try
        {
            answer = await gateway.GetRefundAsync(refund.GatewayReference, cancellationToken);
        }
        catch (Exception ex) when (ex is GatewayUnavailableException or GatewayRejectedException)
        {
            await store.RecordRefundCheckAsync(refund.Id, clock.GetUtcNow() + schedule.FailureBackoff(1), cancellationToken);
            return "unreachable: " + ex.Message;
        }
        if (answer.Status is "succeeded" or "failed")
        {
            await finish.HandleAsync(refund, order, answer.Status == "succeeded", answer.FailureReason, cancellationToken);
            return answer.Status;
        }
        await store.RecordRefundCheckAsync(refund.Id, clock.GetUtcNow() + schedule.DelayAfter(refund.CheckCount + 1), cancellationToken);
        return "pending";
    }
}
