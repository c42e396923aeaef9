using Clearflow.Application.Reports;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Workers;

/// <summary>Settings of the end-of-day scheduler (section <c>Clearflow:EndOfDay</c>); the time itself is per merchant.</summary>
public sealed class EndOfDayOptions
{
    /// <summary>Run the scheduler in this process. Safe on many nodes: one run per merchant and day regardless.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Once a minute (and at start, which is how runs missed while down are caught up) runs
/// <see cref="RunDueEndOfDaySweeps"/>.
/// </summary>
public sealed class EndOfDayScheduler(IServiceScopeFactory scopes, IOptions<EndOfDayOptions> options, TimeProvider clock, ILogger<EndOfDayScheduler> logger)
    : TimedWorker(scopes, clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMinutes(1);

    protected override bool Enabled => options.Value.Enabled;

    protected override async Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        foreach (var report in await services.GetRequiredService<RunDueEndOfDaySweeps>().HandleAsync(cancellationToken))
        {
            Logger.LogInformation("End-of-day report {Date} for {MerchantId}: {NotFinal} orders not final", report.Date, report.MerchantId, report.NotFinal.Count);
        }
        return false;
    }
}
