using Clearflow.Application.Abstractions;
using Clearflow.Application.Merchants;

namespace Clearflow.Application.Reports;

/// <summary>
/// One round of the end-of-day scheduler: for every merchant, each cron occurrence (in the merchant's
/// time zone) of the last <see cref="CatchUpWindow"/> whose run has no report yet is run now. That
/// makes a run missed while Clearflow was down happen at the next start. Only one node does a round at
/// a time (a cluster-wide singleton lock); the run record makes each run happen once regardless.
/// </summary>
public sealed class RunDueEndOfDaySweeps(IClearflowStore store, RunEndOfDaySweep sweep, TimeProvider clock)
{
    public static readonly TimeSpan CatchUpWindow = TimeSpan.FromDays(7);

    public async Task<IReadOnlyList<DailyReport>> HandleAsync(CancellationToken cancellationToken)
    {
        await using var singleton = await store.TryAcquireSingletonAsync("end-of-day", cancellationToken);
        if (singleton is null)
        {
            return [];
        }
        var now = clock.GetUtcNow();
        var reports = new List<DailyReport>();
        foreach (var merchant in await store.ListMerchantsAsync(cancellationToken))
        {
            var settings = MerchantSettings.Parse(merchant.SettingsJson).EndOfDay;
            var zone = settings.FindTimeZone();
            var from = merchant.CreatedAt > now - CatchUpWindow ? merchant.CreatedAt : now - CatchUpWindow;
            foreach (var occurrence in settings.ParseCron().GetOccurrences(from, now, zone, fromInclusive: true, toInclusive: true))
            {
                var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(occurrence, zone).DateTime);
                var existing = await store.GetDailyRunAsync(merchant.Id, date.ToString(RunEndOfDaySweep.DateFormat, System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
                if (existing?.FinishedAt is not null)
                {
                    continue;
                }
                if (await sweep.HandleAsync(merchant, date, cancellationToken) is { } report)
                {
                    reports.Add(report);
                }
            }
        }
        return reports;
    }
}
