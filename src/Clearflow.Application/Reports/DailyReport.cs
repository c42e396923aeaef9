namespace Clearflow.Application.Reports;

/// <summary>What the end-of-day sweep found for one merchant and local date.</summary>
public sealed record DailyReport(
    string MerchantId,
    string Date,
    string TimeZone,
    DateTimeOffset DayStart,
    DateTimeOffset DayEnd,
    DateTimeOffset GeneratedAt,
    int CheckedNow,
    IReadOnlyList<DailyReport.StatusLine> ByStatus,
    IReadOnlyList<DailyReport.OpenOrder> NotFinal)
{
    /// <summary>Orders of the day in one status and currency; amounts in minor units.</summary>
    public sealed record StatusLine(string Status, string Currency, int Count, long Amount);

    /// <summary>An order of the day still not final after the sweep asked the gateway.</summary>
    public sealed record OpenOrder(string OrderId, string Receipt, string Status, string? StatusReason, long Amount, string Currency,
        DateTimeOffset CreatedAt, long AgeSeconds, string? LastGatewayAnswer, DateTimeOffset? LastCheckedAt, DateTimeOffset? NextCheckAt);
}
