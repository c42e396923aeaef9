namespace Clearflow.Domain.Orders;

/// <summary>
/// Decides what a gateway observation does to an order. Pure: the same inputs always give the
/// same decision, so every racing path (callback, webhook, poll, sweep) reaches the same result.
/// </summary>
public static class OutcomeDecider
{
    public static OutcomeDecision Decide(OrderStatus current, long orderAmountMinor, string orderCurrency, GatewayObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);

        // Verify, then trust: a gateway that reports money other than what we asked for is not
        // believed, whatever status it claims.
        if (observation.Currency is not null && !string.Equals(observation.Currency, orderCurrency, StringComparison.OrdinalIgnoreCase))
        {
            return Mismatch(current, $"gateway reported currency {observation.Currency}, order is in {orderCurrency}");
        }
        if (observation.AmountMinor is { } reported && reported != orderAmountMinor)
        {
            return Mismatch(current, $"gateway reported amount {reported}, order amount is {orderAmountMinor}");
        }

        var target = observation.Status switch
        {
            // "Not attempted yet" is news only to an order whose status we lost track of.
            GatewayPaymentStatus.Created => current == OrderStatus.Unknown ? OrderStatus.Pending : (OrderStatus?)null,
            GatewayPaymentStatus.Pending => OrderStatus.Pending,
            GatewayPaymentStatus.Succeeded => OrderStatus.Succeeded,
            GatewayPaymentStatus.Failed => OrderStatus.Failed,
            GatewayPaymentStatus.Cancelled => OrderStatus.Cancelled,
            GatewayPaymentStatus.Expired => OrderStatus.Expired,
            _ => throw new ArgumentOutOfRangeException(nameof(observation), observation.Status, null),
        };

        if (target is null)
        {
            return new OutcomeDecision.Ignore("gateway reports the payment not yet attempted");
        }
        if (target == current)
        {
            return new OutcomeDecision.Ignore($"already {current.ToWire()}");
        }
        if (target == OrderStatus.Succeeded && OrderStateMachine.LateSuccessPredecessors.Contains(current))
        {
            return new OutcomeDecision.Move(OrderStatus.Succeeded,
                $"late success: gateway reports success after the order was {current.ToWire()}", IsLateSuccess: true);
        }
        if (target == OrderStatus.Succeeded)
        {
            return OrderStateMachine.CanMove(current, OrderStatus.Succeeded)
                ? new OutcomeDecision.Move(OrderStatus.Succeeded, "gateway reports success", false)
                : new OutcomeDecision.Ignore($"success reported while order is {current.ToWire()}");
        }

        var to = target.Value;
        return OrderStateMachine.CanMove(current, to)
            ? new OutcomeDecision.Move(to, $"gateway reports {to.ToWire()}", false)
            : new OutcomeDecision.Ignore($"{to.ToWire()} would move the order backwards from {current.ToWire()}");
    }

    private static OutcomeDecision Mismatch(OrderStatus current, string reason) =>
        OrderStateMachine.CanMove(current, OrderStatus.RequiresReview)
            ? new OutcomeDecision.Review(reason)
            : new OutcomeDecision.Ignore(reason);
}
