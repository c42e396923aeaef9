using Clearflow.Application.Abstractions;
using Clearflow.Storage;
using Clearflow.Storage.Postgres;

namespace Clearflow.Server.LiveStatus;

/// <summary>
/// Connects the store's change signals to the feed: this node's commits directly, and on PostgreSQL every
/// node's commits through LISTEN/NOTIFY (reconnecting after a lost connection).
/// </summary>
public sealed class OrderStatusRelay(IClearflowStore store, OrderStatusFeed feed, ILogger<OrderStatusRelay> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store is SqlStore sql)
        {
            sql.OrderStatusChanged += feed.Publish;
        }
        if (store is not PostgresStore postgres)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await postgres.ListenForStatusChangesAsync(feed.Publish, stoppingToken);
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
