namespace Clearflow.Server.Workers;

/// <summary>
/// The loop every background worker shares: a round at start, then one per tick of the injected clock
/// (tests move it), rounds repeated at once while they report more work, and a failed round logged and
/// retried at the next tick. Workers only say what one round does.
/// </summary>
public abstract class TimedWorker(IServiceScopeFactory scopes, TimeProvider clock, ILogger logger) : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    protected ILogger Logger { get; } = logger;

    protected abstract TimeSpan Interval { get; }

    protected virtual bool Enabled => true;

    /// <summary>One round, in its own DI scope; true when there may be more work right away (a full batch).</summary>
    protected abstract Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(Interval, Clock);
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
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
