using Clearflow.Application.Abstractions;

namespace Clearflow.Server.Workers;

/// <summary>
/// Deletes idempotency keys past their 7-day retention, hourly. Expired keys are already ignored when
/// a request meets one; this only keeps the table from growing without end. Safe on many nodes.
/// </summary>
public sealed class IdempotencyKeyPurger(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IdempotencyKeyPurger> logger)
    : TimedWorker(scopes, clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override async Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var purged = await services.GetRequiredService<IIdempotencyStore>().PurgeExpiredIdempotencyKeysAsync(Clock.GetUtcNow(), cancellationToken);
        if (purged > 0)
        {
            Logger.LogInformation("Purged {Count} expired idempotency keys", purged);
        }
        return false;
    }
}
