using Clearflow.Application.Notifications;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Workers;

/// <summary>
/// Every second, and at once when an order changes: fans committed outbox messages out to recipients and sends those
/// deliveries at once, then sends what else is due (retries, replays, deliveries another node left).
/// </summary>
public sealed class NotificationWorker(IServiceScopeFactory scopes, IOptions<PollerOptions> options, NotificationWakeUp wakeUp, TimeProvider clock, ILogger<NotificationWorker> logger)
    : TimedWorker(scopes, clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);

    protected override bool Enabled => options.Value.Enabled;

    protected override WorkSignal Wake => wakeUp.Signal;

    protected override async Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var deliver = services.GetRequiredService<DeliverNotifications>();
        var dispatched = await services.GetRequiredService<DispatchOutbox>().HandleAsync(options.Value.BatchSize, cancellationToken);
        await deliver.DeliverClaimedAsync(dispatched, cancellationToken);
        var sent = await deliver.HandleAsync(options.Value.BatchSize, cancellationToken);
        return dispatched.MessagesRead == options.Value.BatchSize || sent == options.Value.BatchSize;
    }
}
