using Clearflow.Application.Pipeline;
using Clearflow.Application.Refunds;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Workers;

/// <summary>Runs the pipeline's due tasks (fulfil, compensate) and due refund checks: every second, and at once when an order changes.</summary>
public sealed class PipelineWorker(IServiceScopeFactory scopes, IOptions<PollerOptions> options, PipelineWakeUp wakeUp, NotificationWakeUp notifications, TimeProvider clock, ILogger<PipelineWorker> logger)
    : TimedWorker(scopes, clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);

    protected override bool Enabled => options.Value.Enabled;

    protected override WorkSignal Wake => wakeUp.Signal;

    protected override async Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var round = await services.GetRequiredService<RunOrderTasks>().HandleAsync(options.Value.BatchSize, cancellationToken);
        foreach (var (taskId, error) in round.Failures)
        {
            Logger.LogError(error, "Pipeline task {TaskId} failed; it is retried when its lease ends", taskId);
        }
        if (round.Claimed > 0)
        {
            notifications.Signal.Notify(); // fulfilment outcomes are outbox messages too
        }
        var refunds = await services.GetRequiredService<RunDueRefundChecks>().HandleAsync(options.Value.BatchSize, cancellationToken);
        return round.Claimed == options.Value.BatchSize || refunds == options.Value.BatchSize;
    }
}
