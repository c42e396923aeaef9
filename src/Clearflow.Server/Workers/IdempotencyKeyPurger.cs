using Clearflow.Application.Abstractions;

namespace Clearflow.Server.Workers;

/// <summary>
/// Deletes idempotency keys past their 7-day retention, hourly. Expired keys are already ignored when
/// a request meets one; this only keeps the table from growing without end. Safe on many nodes: the
/// delete is idempotent.
/// </summary>
public sealed class IdempotencyKeyPurger(IIdempotencyStore store, TimeProvider clock, ILogger<IdempotencyKeyPurger> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            do
            {
                try
                {
                    var purged = await store.PurgeExpiredIdempotencyKeysAsync(clock.GetUtcNow(), stoppingToken);
                    if (purged > 0)
                    {
                        logger.LogInformation("Purged {Count} expired idempotency keys", purged);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Purging expired idempotency keys failed; trying again in {Interval}", Interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
