using Clearflow.Application.Abstractions;
using Clearflow.Storage;
using Clearflow.Storage.Postgres;

namespace Clearflow.Server.LiveStatus;

/// <summary>
/// Connects the store's change signals to the feed: this node's commits directly, and on PostgreSQL every
/// node's commits through LISTEN/NOTIFY (reconnecting after a lost connection). A change also wakes the
/// pipeline and notification workers: it is what creates their work (fulfil tasks, outbox messages).
/// </summary>
public sealed class OrderStatusRelay(IClearflowStore store, OrderStatusFeed feed, Workers.PipelineWakeUp pipeline, Workers.NotificationWakeUp notifications,
    ILogger<OrderStatusRelay> logger) : BackgroundService
{
    private void Changed(string orderId)
    {
        feed.Publish(orderId);
        pipeline.Signal.Notify();
        notifications.Signal.Notify();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store is SqlStore sql)
        {
            sql.OrderStatusChanged += Changed;
        }
        if (store is not PostgresStore postgres)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await postgres.ListenForStatusChangesAsync(Changed, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Listening for status changes failed; reconnecting in 2 s");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
