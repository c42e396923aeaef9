using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Notifications;

/// <summary>
/// Reading, re-enabling, deleting an endpoint and rotating its secret. During a rotation both secrets sign
/// every delivery until the overlap ends, so receivers can switch without losing a message.
/// </summary>
public sealed class ManageWebhookEndpoint(INotificationStore store, TimeProvider clock)
{
    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromHours(24);

    public async Task<IReadOnlyList<WebhookEndpointView>> ListAsync(string merchantId, CancellationToken cancellationToken) =>
        [.. (await store.ListWebhookEndpointsAsync(merchantId, cancellationToken)).Select(WebhookEndpointView.From)];

    public async Task<Result<WebhookEndpointView>> RotateSecretAsync(string merchantId, string endpointId, TimeSpan? overlap, CancellationToken cancellationToken)
    {
        if (overlap is { } o && (o < TimeSpan.Zero || o > TimeSpan.FromDays(7)))
        {
            return Problem.Validation("overlap", "Must be between 00:00:00 and 7.00:00:00.");
        }
        if (await FindAsync(merchantId, endpointId, cancellationToken) is not { } endpoint)
        {
            return Problem.NotFound("Webhook endpoint", endpointId);
        }
        var secret = CreateWebhookEndpoint.NewSecret();
        await store.RotateWebhookSecretAsync(endpoint.Id, secret, clock.GetUtcNow() + (overlap ?? DefaultOverlap), cancellationToken);
        var rotated = (await store.GetWebhookEndpointAsync(endpoint.Id, cancellationToken))!;
        return WebhookEndpointView.From(rotated) with { Secret = secret };
    }

    public async Task<Result<WebhookEndpointView>> SetStatusAsync(string merchantId, string endpointId, string status, CancellationToken cancellationToken)
    {
        if (await FindAsync(merchantId, endpointId, cancellationToken) is not { } endpoint)
        {
            return Problem.NotFound("Webhook endpoint", endpointId);
        }
        await store.SetWebhookEndpointStatusAsync(endpoint.Id, status, status == "enabled" ? null : "by the merchant", clock.GetUtcNow(), cancellationToken);
        return WebhookEndpointView.From((await store.GetWebhookEndpointAsync(endpoint.Id, cancellationToken))!);
    }

    private async Task<WebhookEndpointRecord?> FindAsync(string merchantId, string endpointId, CancellationToken cancellationToken)
    {
        var endpoint = await store.GetWebhookEndpointAsync(endpointId, cancellationToken);
        return endpoint is not null && endpoint.MerchantId == merchantId && endpoint.Status != "deleted" ? endpoint : null;
    }
}
