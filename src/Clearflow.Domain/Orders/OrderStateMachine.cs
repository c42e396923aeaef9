using System.Collections.Frozen;

namespace Clearflow.Domain.Orders;

/// <summary>
/// The only moves an order's status may make. Storage refuses any other move, and applies an allowed one with a
/// conditional update guarded by the status it was decided on (<c>WHERE status = @from</c>), so of two racing
/// signals only one can move the order, and never backwards.
/// </summary>
public static class OrderStateMachine
{
    private static readonly OrderStatus[] Open = [OrderStatus.Created, OrderStatus.Pending, OrderStatus.Unknown];

    /// <summary>Statuses a success may arrive in normally.</summary>
    public static readonly IReadOnlyList<OrderStatus> SuccessPredecessors =
        [.. Open, OrderStatus.RequiresReview];

    /// <summary>
    /// Statuses where a success is "late": Clearflow (or the gateway) already gave up, yet the
    /// customer's money moved. Never ignored: it starts the late-success path.
    /// </summary>
    public static readonly IReadOnlyList<OrderStatus> LateSuccessPredecessors =
        [OrderStatus.Failed, OrderStatus.Expired, OrderStatus.Cancelled];

    private static readonly FrozenDictionary<OrderStatus, OrderStatus[]> Predecessors =
        new Dictionary<OrderStatus, OrderStatus[]>
        {
            [OrderStatus.Created] = [],
            [OrderStatus.Pending] = [OrderStatus.Created, OrderStatus.Unknown],
            [OrderStatus.Unknown] = [OrderStatus.Created, OrderStatus.Pending],
            [OrderStatus.Succeeded] = [.. SuccessPredecessors, .. LateSuccessPredecessors],
            [OrderStatus.Failed] = [.. Open, OrderStatus.RequiresReview],
            [OrderStatus.Cancelled] = [.. Open, OrderStatus.RequiresReview],
            [OrderStatus.Expired] = [.. Open, OrderStatus.RequiresReview],
            [OrderStatus.RequiresReview] = Open,
            [OrderStatus.PartiallyRefunded] = [OrderStatus.Succeeded, OrderStatus.PartiallyRefunded],
            [OrderStatus.Refunded] = [OrderStatus.Succeeded, OrderStatus.PartiallyRefunded],
        }.ToFrozenDictionary();

    public static IReadOnlyList<OrderStatus> PredecessorsOf(OrderStatus target) => Predecessors[target];

    public static bool CanMove(OrderStatus from, OrderStatus to) => Predecessors[to].Contains(from);

    /// <summary>Final for the customer: the outcome is known and will not change by itself.</summary>
    public static bool IsFinal(OrderStatus status) => status is OrderStatus.Succeeded or OrderStatus.Failed
        or OrderStatus.Cancelled or OrderStatus.Expired or OrderStatus.PartiallyRefunded or OrderStatus.Refunded;
}
