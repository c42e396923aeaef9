using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Notifications;

/// <summary>What was sent where, every attempt, and manual replay (<c>POST /v1/webhook-deliveries/{id}/replay</c>).</summary>
public sealed class DeliveryHistory(INotificationStore store, TimeProvider clock)
{
    public sealed record AttemptView(int Attempt, DateTimeOffset At, int? StatusCode, long LatencyMs, string? ResponseExcerpt, string? Error);

    public sealed record DeliveryView(string Id, string Topic, string Channel, string Target, string? OrderId, string Status, int Attempts, int? LastStatusCode,
        string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, DateTimeOffset? NextAttemptAt, IReadOnlyList<AttemptView> AttemptLog);

    public async Task<Result<IReadOnlyList<DeliveryView>>> ForEndpointAsync(string merchantId, string endpointId, CancellationToken cancellationToken)
    {
        var endpoint = await store.GetWebhookEndpointAsync(endpointId, cancellationToken);
        if (endpoint is null || endpoint.MerchantId != merchantId)
        {
            return Problem.NotFound("Webhook endpoint", endpointId);
        }
        return Result<IReadOnlyList<DeliveryView>>.Ok(await ViewsAsync(await store.ListDeliveriesAsync(merchantId, endpointId, null, cancellationToken), cancellationToken));
    }

    public async Task<IReadOnlyList<DeliveryView>> ForOrderAsync(string merchantId, string orderId, CancellationToken cancellationToken) =>
        await ViewsAsync(await store.ListDeliveriesAsync(merchantId, null, orderId, cancellationToken), cancellationToken);

    public async Task<Result<DeliveryView>> ReplayAsync(string merchantId, string deliveryId, CancellationToken cancellationToken)
    {
        var delivery = await store.GetDeliveryAsync(deliveryId, cancellationToken);
        if (delivery is null || delivery.MerchantId != merchantId)
        {
            return Problem.NotFound("Delivery", deliveryId);
        }
        if (delivery.Channel == "webhook" && await store.GetWebhookEndpointAsync(delivery.Target, cancellationToken) is { Status: not "enabled" } endpoint)
        {
            return Problem.Conflict("endpoint-disabled", $"Endpoint {endpoint.Id} is {endpoint.Status}; enable it before replaying to it.");
        }
        if (!await store.ReplayDeliveryAsync(deliveryId, clock.GetUtcNow(), cancellationToken))
        {
            return Problem.Conflict("delivery-pending", $"Delivery {deliveryId} is already waiting to be sent.");
        }
        return (await ViewsAsync([(await store.GetDeliveryAsync(deliveryId, cancellationToken))!], cancellationToken))[0];
    }

    private async Task<IReadOnlyList<DeliveryView>> ViewsAsync(IEnumerable<DeliveryRecord> deliveries, CancellationToken cancellationToken)
    {
        var views = new List<DeliveryView>();
        foreach (var d in deliveries)
        {
            var attempts = await store.ListDeliveryAttemptsAsync(d.Id, cancellationToken);
            views.Add(new DeliveryView(d.Id, d.Topic, d.Channel, d.Channel == "webhook" ? d.Target : Mask(d.Target), d.OrderId, d.Status, d.Attempts, d.LastStatusCode,
                d.LastError, d.CreatedAt, d.DeliveredAt, d.Status == "pending" ? d.AvailableAt : null,
                [.. attempts.Select(a => new AttemptView(a.Attempt, a.At, a.StatusCode, a.LatencyMs, a.ResponseExcerpt, a.Error))]));
        }
        return views;
    }

    /// <summary>Operator addresses are shown masked: the API is no place to collect addresses.</summary>
    private static string Mask(string target) => target.IndexOf('@', StringComparison.Ordinal) is > 1 and var at ? target[0] + "***" + target[at..] : target;
}
