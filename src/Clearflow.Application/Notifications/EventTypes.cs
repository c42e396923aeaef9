namespace Clearflow.Application.Notifications;

/// <summary>The events merchants can subscribe their webhook endpoints to.</summary>
public static class EventTypes
{
    public static readonly IReadOnlyList<string> All =
    [
        "order.created", "order.pending", "order.succeeded", "order.failed", "order.cancelled", "order.expired", "order.requires_review",
        "order.partially_refunded", "order.refunded", "refund.created", "refund.succeeded", "refund.failed",
        "fulfilment.succeeded", "fulfilment.failed",
    ];

    /// <summary>Outbox topics that go to a merchant's webhook endpoints (the others are for customers and operators).</summary>
    public static bool IsMerchantEvent(string topic) => !topic.StartsWith("customer.", StringComparison.Ordinal) && !topic.StartsWith("operator.", StringComparison.Ordinal);
}
