using System.Globalization;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;

namespace Clearflow.Application.Reports;

/// <summary><c>GET /v1/reports/daily/{date}</c>: the stored report of one local date.</summary>
public sealed class GetDailyReport(IClearflowStore store)
{
    /// <returns>The report as stored (JSON).</returns>
    public async Task<Result<string>> HandleAsync(string merchantId, string date, CancellationToken cancellationToken)
    {
        if (!DateOnly.TryParseExact(date, RunEndOfDaySweep.DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            return Problem.Validation("date", "Must be a date as yyyy-MM-dd, e.g. 2026-11-24.");
        }
        var run = await store.GetDailyRunAsync(merchantId, date, cancellationToken);
        if (run?.ReportJson is null)
        {
            var merchant = await store.GetMerchantAsync(merchantId, cancellationToken);
            var endOfDay = merchant is null ? new EndOfDaySettings() : MerchantSettings.Parse(merchant.SettingsJson).EndOfDay;
            return new Problem(404, "not-found", "No report for that date.",
                $"There is no daily report for {date} yet. The end-of-day sweep runs at cron '{endOfDay.Cron}' in {endOfDay.TimeZone}" +
                (run is null ? "." : "; this date's run has started and not finished."));
        }
        return run.ReportJson;
    }
}
