namespace Clearflow.Domain.Orders;

/// <summary>
/// What one signal (webhook, status fetch) says about a payment: the normalised status and
/// the amount and currency the gateway claims. Amount and currency are cross-checked against
/// what Clearflow stored before anything moves.
/// </summary>
public sealed record GatewayObservation(
    GatewayPaymentStatus Status,
    long? AmountMinor,
    string? Currency);
