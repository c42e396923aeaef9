using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Common;

/// <summary>
/// What the merchant's systems and the customer are told about an order, as outbox messages committed
/// with the change. Topics for merchants follow the event names of the webhook API (<c>order.succeeded</c>,
/// <c>refund.failed</c>, ...); customer topics start with <c>customer.</c>. Each dedupe key names the event
/// once, so retries and duplicate signals never queue a second message.
/// </summary>
public static class OrderNotices
{
    // Refund outcomes reach the customer as customer.refund_succeeded, so the order's refunded statuses are merchant events only.
    private static readonly HashSet<OrderStatus> CustomerFacing =
        [OrderStatus.Pending, OrderStatus.Succeeded, OrderStatus.Failed, OrderStatus.Expired, OrderStatus.Cancelled];

    /// <param name="occurrence">for a status an order can reach more than once (partially refunded, again and again): what makes this time distinct</param>
    public static IReadOnlyList<OutboxMessage> ForStatus(OrderRecord order, OrderStatus status, DateTimeOffset now, string? detail = null, string? occurrence = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        var wire = status.ToWire();
        var key = occurrence is null ? order.Id : $"{order.Id}:{occurrence}";
        var payload = Json.Serialize(new { order_id = order.Id, receipt = order.Receipt, status = wire, amount = order.Amount, currency = order.Currency, detail });
        var messages = new List<OutboxMessage> { Message(order, "order." + wire, $"order.{wire}:{key}", payload, now) };
        if (CustomerFacing.Contains(status))
        {
            messages.Add(Message(order, "customer.order_" + wire, $"customer.order_{wire}:{key}", payload, now));
        }
        return messages;
    }

    public static IReadOnlyList<OutboxMessage> ForRefund(OrderRecord order, RefundRecord refund, string eventName, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(refund);
        var payload = Json.Serialize(new
        {
            order_id = order.Id, refund_id = refund.Id, amount = refund.Amount, currency = refund.Currency, kind = refund.Kind, reason = refund.Reason,
            failure_reason = refund.FailureReason,
        });
        var messages = new List<OutboxMessage> { Message(order, "refund." + eventName, $"refund.{eventName}:{refund.Id}", payload, now) };
        if (eventName is "succeeded" or "created")
        {
            messages.Add(Message(order, "customer.refund_" + eventName, $"customer.refund_{eventName}:{refund.Id}", payload, now));
        }
        return messages;
    }

    public static OutboxMessage FulfilmentFailed(OrderRecord order, string error, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(order);
        return Message(order, "fulfilment.failed", $"fulfilment.failed:{order.Id}",
            Json.Serialize(new { order_id = order.Id, receipt = order.Receipt, error }), now);
    }

    public static OutboxMessage Fulfilled(OrderRecord order, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(order);
        return Message(order, "fulfilment.succeeded", $"fulfilment.succeeded:{order.Id}", Json.Serialize(new { order_id = order.Id, receipt = order.Receipt }), now);
    }

    private static OutboxMessage Message(OrderRecord order, string topic, string dedupeKey, string payload, DateTimeOffset now) =>
        new("obx_" + Secrets.RandomToken(20), order.MerchantId, order.Id, topic, dedupeKey, payload, now);
}
