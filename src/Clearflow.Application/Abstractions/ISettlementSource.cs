namespace Clearflow.Application.Abstractions;

/// <summary>One line of a gateway's settlement report: money the gateway paid out (or took back), with its fee and tax.</summary>
/// <param name="Kind">"payment", "refund" or "adjustment".</param>
/// <param name="GatewayTransactionId">The gateway's payment or refund id.</param>
/// <param name="GatewayOrderReference">What Clearflow stores as the attempt's gateway reference, when the line names it.</param>
/// <param name="Net">What reached (positive) or left (negative) the merchant's bank account for this line.</param>
public sealed record SettlementLine(string Kind, string GatewayTransactionId, string? GatewayOrderReference, long Gross, long Fee, long Tax, long Net,
    string Currency, string? SettlementId, string? SettlementReference, DateTimeOffset? SettledAt);

/// <summary>A connector whose gateway offers settlement reports (Razorpay, Cashfree).</summary>
public interface ISettlementSource
{
    /// <summary>Lines settled on the UTC days <paramref name="from"/> to <paramref name="to"/>, inclusive.</summary>
    Task<IReadOnlyList<SettlementLine>> FetchSettlementsAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken);
}
