using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// The customer's browser coming back from the gateway (the return URL). Even when signed, a callback
/// is only a hint: it queues a status fetch from the gateway and never decides the outcome itself.
/// </summary>
public sealed class ReceiveCallback(IGatewayRegistry gateways, IClearflowStore store, IInboxSignal signal, IdGenerator ids, TimeProvider clock)
{
    public async Task<Result<OrderRecord>> HandleAsync(string gatewayName, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        // Gateways with per-merchant credentials are resolved through the order named in the return URL.
        query.TryGetValue("order_id", out var claimedOrderId);
        var claimedOrder = claimedOrderId is null ? null : await store.GetOrderAsync(claimedOrderId, cancellationToken);
        var gateway = gateways.Find(gatewayName)
            ?? (claimedOrder is null ? null : await gateways.ResolveAsync(claimedOrder.MerchantId, gatewayName, cancellationToken));
        if (gateway is null)
        {
            return Problem.NotFound("Gateway", gatewayName);
        }
        var parsed = await gateway.ParseCallbackAsync(query, cancellationToken);
        if (parsed is CallbackParseResult.Rejected rejected)
        {
            return new Problem(400, "callback-signature-invalid", "The gateway callback could not be verified.", rejected.Reason);
        }
        var callback = (CallbackParseResult.Authentic)parsed;

        var attempt = await store.FindAttemptByReferenceAsync(gateway.Name, callback.GatewayReference, cancellationToken);
        query.TryGetValue("order_id", out var orderId);
        if (attempt is null || (orderId is not null && attempt.OrderId != orderId))
        {
            return new Problem(400, "callback-order-mismatch", "The callback does not match an order.",
                "The gateway reference in the callback does not belong to the order in the return URL.");
        }
        var order = (await store.GetOrderAsync(attempt.OrderId, cancellationToken))!;

        var now = clock.GetUtcNow();
        var inboxId = ids.New(IdPrefixes.InboxEvent);
        await store.InsertInboxEventAsync(new InboxEventRecord(
            inboxId, InboxSource.Callback, gateway.Name, DedupeKey: "callback-" + inboxId, callback.GatewayReference, order.Id,
            EventType: "callback." + callback.ClaimedStatus, ObservationJson: null, RawBody: null, now, 0, null, null), cancellationToken);
        signal.Notify(inboxId);
        return order;
    }
}
