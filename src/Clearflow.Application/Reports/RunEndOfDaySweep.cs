using Clearflow.Application.Abstractions;
using Clearflow.Application.Checks;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Reports;

/// <summary>
/// The end-of-day job for one merchant and local date: asks the gateway right away about every order
/// of that day that is not final, then writes the daily report and queues it for the operators. The
/// run record's primary key makes it happen once per merchant and date, however many nodes try.
/// </summary>
public sealed class RunEndOfDaySweep(IClearflowStore store, CheckOrderStatus check, TimeProvider clock)
{
    /// <summary>A started run older than this without a report died with its node, and is run again.</summary>
    public static readonly TimeSpan StaleRun = TimeSpan.FromMinutes(15);

    public const string DateFormat = "yyyy-MM-dd";

    /// <returns>The report, or null when this run was already done (or is being done elsewhere).</returns>
    public async Task<DailyReport?> HandleAsync(MerchantRecord merchant, DateOnly date, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(merchant);
        var settings = MerchantSettings.Parse(merchant.SettingsJson).EndOfDay;
        var zone = settings.FindTimeZone();
        var reportDate = date.ToString(DateFormat, System.Globalization.CultureInfo.InvariantCulture);
        if (!await store.TryStartDailyRunAsync(merchant.Id, reportDate, clock.GetUtcNow(), StaleRun, cancellationToken))
        {
            return null;
        }

        var (dayStart, dayEnd) = LocalDay(date, zone);
        var open = await store.ListOpenOrdersCreatedBetweenAsync(merchant.Id, dayStart, dayEnd, cancellationToken);
        var checkedNow = 0;
        foreach (var order in open.Where(o => o.Status != OrderStatus.RequiresReview))
        {
            // One order's trouble must not cost the others their check; the report lists it as not final.
            try
            {
                await check.HandleAsync(order.Id, "end-of-day sweep", cancellationToken);
                checkedNow++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await store.AppendTimelineAsync(order.Id, new TimelineEntry(clock.GetUtcNow(), "check.failed", $"End-of-day check failed: {ex.Message}"), cancellationToken);
            }
        }

        var now = clock.GetUtcNow();
        var totals = await store.TotalsByStatusAsync(merchant.Id, dayStart, dayEnd, cancellationToken);
        var stillOpen = await store.ListOpenOrdersCreatedBetweenAsync(merchant.Id, dayStart, dayEnd, cancellationToken);
        var report = new DailyReport(merchant.Id, reportDate, settings.TimeZone, dayStart, dayEnd, now, checkedNow,
            [.. totals.Select(t => new DailyReport.StatusLine(t.Status, t.Currency, t.Count, t.Amount))],
            [.. stillOpen.Select(o => new DailyReport.OpenOrder(o.Id, o.Receipt, o.Status.ToWire(), o.StatusReason, o.Amount, o.Currency, o.CreatedAt,
                (long)(now - o.CreatedAt).TotalSeconds, o.LastGatewayStatus, o.LastCheckedAt, o.NextCheckAt))]);
        var summary = $"{totals.Sum(t => t.Count)} orders on {reportDate}; {stillOpen.Count} not final.";
        await store.CompleteDailyRunAsync(merchant.Id, reportDate, now, Json.Serialize(report),
            OperatorNotices.DailyReport(merchant.Id, reportDate, summary, now), cancellationToken);
        return report;
    }

    /// <summary>The UTC instants where <paramref name="date"/> begins and ends in <paramref name="zone"/>.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) LocalDay(DateOnly date, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        DateTimeOffset ToUtc(DateOnly day)
        {
            var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
            return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
        }
        return (ToUtc(date), ToUtc(date.AddDays(1)));
    }
}
