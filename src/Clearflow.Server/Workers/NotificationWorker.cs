using Clearflow.Application.Notifications;

namespace Clearflow.Server.Workers;

/// <summary>Thin worker: every second, fans committed outbox messages out to recipients and sends what is due.</summary>
public sealed class NotificationWorker(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<PollerOptions> options, TimeProvider clock, ILogger<NotificationWorker> logger)
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
                    int fannedOut, sent;
                    do
                    {
                        using var scope = scopes.CreateScope();
                        fannedOut = await scope.ServiceProvider.GetRequiredService<DispatchOutbox>().HandleAsync(options.Value.BatchSize, stoppingToken);
                        sent = await scope.ServiceProvider.GetRequiredService<DeliverNotifications>().HandleAsync(options.Value.BatchSize, stoppingToken);
                    }
                    while ((fannedOut == options.Value.BatchSize || sent == options.Value.BatchSize) && !stoppingToken.IsCancellationRequested);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Notification round failed; retrying at the next tick");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
