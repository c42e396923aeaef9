namespace Clearflow.Domain.Orders;

/// <summary>A gateway's answer, normalised across gateways.</summary>
public enum GatewayPaymentStatus
{
    Created,
    Pending,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
}
