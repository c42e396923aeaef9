using Clearflow.Application.Checks;

namespace Clearflow.Server.Workers;

/// <summary>Settings of the status poller (section <c>Clearflow:Poller</c>).</summary>
public sealed class PollerOptions
{
    /// <summary>Run the poller in this process (turn off on nodes that should only serve the API).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the poller looks for due checks. The schedule itself is per merchant and gateway.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Orders claimed per round; a full batch is followed at once by another round.</summary>
    public int BatchSize { get; set; } = 100;
}

/// <summary>Thin worker: runs <see cref="RunDueStatusChecks"/> on a timer (read from the injected clock).</summary>
public sealed class StatusPoller(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<PollerOptions> options, TimeProvider clock, ILogger<StatusPoller> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        try
        {
            do
            {
                try
                {
                    RunDueStatusChecks.Round round;
                    do
                    {
                        using var scope = scopes.CreateScope();
                        round = await scope.ServiceProvider.GetRequiredService<RunDueStatusChecks>().HandleAsync(options.Value.BatchSize, stoppingToken);
                        foreach (var (orderId, error) in round.Failures)
                        {
                            logger.LogError(error, "Status check of {OrderId} failed; it is retried when its lease ends", orderId);
                        }
                    }
                    while (round.Claimed == options.Value.BatchSize && !stoppingToken.IsCancellationRequested);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Status poller round failed; retrying at the next tick");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
