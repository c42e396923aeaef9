namespace Clearflow.Server.Workers;

/// <summary>
/// The loop every background worker shares: a round at start, then one per tick of the injected clock
/// (tests move it), rounds repeated at once while they report more work, and a failed round logged and
/// retried at the next tick. A worker with a <see cref="Wake"/> signal also starts a round as soon as it is
/// signalled, instead of waiting for the tick. Workers only say what one round does.
/// </summary>
public abstract class TimedWorker(IServiceScopeFactory scopes, TimeProvider clock, ILogger logger) : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    protected ILogger Logger { get; } = logger;

    protected abstract TimeSpan Interval { get; }

    protected virtual bool Enabled => true;

    /// <summary>Signalled when work may have arrived; null: rounds only on the tick.</summary>
    protected virtual WorkSignal? Wake => null;

    /// <summary>One round, in its own DI scope; true when there may be more work right away (a full batch).</summary>
    protected abstract Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        using var timer = Wake is null ? new PeriodicTimer(Interval, Clock) : null;
        try
        {
            do
            {
                try
                {
                    bool more;
                    do
                    {
                        using var scope = scopes.CreateScope();
                        more = await RunOnceAsync(scope.ServiceProvider, stoppingToken);
                    }
                    while (more && !stoppingToken.IsCancellationRequested);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.LogWarning(ex, "{Worker} round failed; retrying at the next tick", GetType().Name);
                }
            }
            while (timer is not null ? await timer.WaitForNextTickAsync(stoppingToken) : await TickOrWakeAsync(Wake!, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// After a signal, how long to let more signals gather before the round: under steady traffic a round then
    /// takes several items at once instead of paying its claim queries for every single one.
    /// </summary>
    protected virtual TimeSpan WakeGathering => TimeSpan.FromMilliseconds(100);

    /// <summary>Waits one interval, or less if signalled; false once stopping.</summary>
    private async Task<bool> TickOrWakeAsync(WorkSignal wake, CancellationToken stoppingToken)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var tick = Task.Delay(Interval, Clock, waiting.Token);
        var woken = wake.WaitAsync(waiting.Token);
        var first = await Task.WhenAny(tick, woken);
        await waiting.CancelAsync(); // the loser stops waiting (a cancelled signal read consumes nothing)
        if (first == woken && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(WakeGathering, Clock, stoppingToken);
        }
        return !stoppingToken.IsCancellationRequested;
    }
}
