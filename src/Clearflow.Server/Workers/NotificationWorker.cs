using Clearflow.Application.Notifications;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Workers;

/// <summary>Every second, and at once when an order changes: fans committed outbox messages out to recipients and sends what is due.</summary>
public sealed class NotificationWorker(IServiceScopeFactory scopes, IOptions<PollerOptions> options, NotificationWakeUp wakeUp, TimeProvider clock, ILogger<NotificationWorker> logger)
    : TimedWorker(scopes, clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);

    protected override bool Enabled => options.Value.Enabled;

    protected override WorkSignal Wake => wakeUp.Signal;

    protected override async Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var fannedOut = await services.GetRequiredService<DispatchOutbox>().HandleAsync(options.Value.BatchSize, cancellationToken);
        var sent = await services.GetRequiredService<DeliverNotifications>().HandleAsync(options.Value.BatchSize, cancellationToken);
        return fannedOut == options.Value.BatchSize || sent == options.Value.BatchSize;
    }
}
