using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// An order handed to an operator (requires_review), from the status the decision was made on, with the operators'
/// notice and the customer's: the one shape for a gateway signal that needs a person and for a status check that ran
/// out of patience.
/// </summary>
public static class ReviewTransition
{
    /// <param name="source">what decided it, for the timeline: "webhook ...", "poll", "operator re-check"</param>
    public static StatusTransition For(OrderRecord order, string reason, string? attemptId, string source, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new StatusTransition(order.Id, order.Status, OrderStatus.RequiresReview, reason, null, attemptId, null,
            new TimelineEntry(now, "status.changed", $"{order.Status.ToWire()} -> requires_review: {reason} ({source}). Operators notified.",
                Json.Serialize(new { from = order.Status.ToWire(), to = "requires_review", reason })))
        {
            Notifications = [OperatorNotices.RequiresReview(order, reason, now), .. OrderNotices.ForStatus(order, OrderStatus.RequiresReview, now)],
        };
    }
}
