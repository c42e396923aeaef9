using Clearflow.Application.Pipeline;
using Clearflow.Application.Refunds;

namespace Clearflow.Server.Workers;

/// <summary>Thin worker: runs the pipeline's due tasks (fulfil, compensate) and due refund checks, every second.</summary>
public sealed class PipelineWorker(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<PollerOptions> options, TimeProvider clock, ILogger<PipelineWorker> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

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
                    RunOrderTasks.Round round;
                    do
                    {
                        using var scope = scopes.CreateScope();
                        round = await scope.ServiceProvider.GetRequiredService<RunOrderTasks>().HandleAsync(options.Value.BatchSize, stoppingToken);
                        foreach (var (taskId, error) in round.Failures)
                        {
                            logger.LogError(error, "Pipeline task {TaskId} failed; it is retried when its lease ends", taskId);
                        }
                    }
                    while (round.Claimed == options.Value.BatchSize && !stoppingToken.IsCancellationRequested);

                    using var refundScope = scopes.CreateScope();
                    await refundScope.ServiceProvider.GetRequiredService<RunDueRefundChecks>().HandleAsync(options.Value.BatchSize, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Pipeline round failed; retrying at the next tick");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
