namespace Clearflow.Domain.Orders;

/// <summary>Where an order stands. The wire and storage form is the snake_case name.</summary>
public enum OrderStatus
{
    Created,
    Pending,
    Unknown,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
    RequiresReview,
    PartiallyRefunded,
    Refunded,
}

public static class OrderStatusNames
{
    public static string ToWire(this OrderStatus status) => status switch
    {
        OrderStatus.Created => "created",
        OrderStatus.Pending => "pending",
        OrderStatus.Unknown => "unknown",
        OrderStatus.Succeeded => "succeeded",
        OrderStatus.Failed => "failed",
        OrderStatus.Cancelled => "cancelled",
        OrderStatus.Expired => "expired",
        OrderStatus.RequiresReview => "requires_review",
        OrderStatus.PartiallyRefunded => "partially_refunded",
        OrderStatus.Refunded => "refunded",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static OrderStatus FromWire(string value) => value switch
    {
        "created" => OrderStatus.Created,
        "pending" => OrderStatus.Pending,
        "unknown" => OrderStatus.Unknown,
        "succeeded" => OrderStatus.Succeeded,
        "failed" => OrderStatus.Failed,
        "cancelled" => OrderStatus.Cancelled,
        "expired" => OrderStatus.Expired,
        "requires_review" => OrderStatus.RequiresReview,
        "partially_refunded" => OrderStatus.PartiallyRefunded,
        "refunded" => OrderStatus.Refunded,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown order status."),
    };

    /// <summary>For input from outside (filters, forms): false instead of an exception for an unknown word.</summary>
    public static bool TryFromWire(string value, out OrderStatus status)
    {
        status = default;
        if (Enum.GetValues<OrderStatus>().FirstOrDefault(s => s.ToWire() == value) is var found && found.ToWire() == value)
        {
            status = found;
            return true;
        }
        return false;
    }
}
