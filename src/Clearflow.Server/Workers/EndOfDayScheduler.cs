using Clearflow.Application.Reports;

namespace Clearflow.Server.Workers;

/// <summary>Settings of the end-of-day scheduler (section <c>Clearflow:EndOfDay</c>); the time itself is per merchant.</summary>
public sealed class EndOfDayOptions
{
    /// <summary>Run the scheduler in this process. Safe on many nodes: one run per merchant and day regardless.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Thin worker: once a minute (and at start, which is how missed runs are caught up) runs
/// <see cref="RunDueEndOfDaySweeps"/>.
/// </summary>
public sealed class EndOfDayScheduler(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<EndOfDayOptions> options, TimeProvider clock, ILogger<EndOfDayScheduler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            do
            {
                try
                {
                    using var scope = scopes.CreateScope();
                    foreach (var report in await scope.ServiceProvider.GetRequiredService<RunDueEndOfDaySweeps>().HandleAsync(stoppingToken))
                    {
                        logger.LogInformation("End-of-day report {Date} for {MerchantId}: {NotFinal} orders not final", report.Date, report.MerchantId, report.NotFinal.Count);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "End-of-day round failed; retrying at the next tick");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
