using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Refunds;

public sealed record RefundView(string Id, string Object, string OrderId, long Amount, string Currency, string Status, string Kind, string? Reason,
    string? FailureReason, string? GatewayReference, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static RefundView From(RefundRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.Id, "refund", r.OrderId, r.Amount, r.Currency, r.Status, r.Kind, r.Reason, r.FailureReason, r.GatewayReference, r.CreatedAt, r.UpdatedAt);
    }
}
