using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Notifications;

public sealed record WebhookEndpointView(string Id, string Object, string Url, IReadOnlyList<string> EventTypes, string Status, DateTimeOffset? FailingSince,
    DateTimeOffset? DisabledAt, string? DisabledReason, DateTimeOffset CreatedAt)
{
    /// <summary>Returned only when created or rotated: Clearflow shows a secret once.</summary>
    public string? Secret { get; init; }

    public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

    public static WebhookEndpointView From(WebhookEndpointRecord e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new(e.Id, "webhook_endpoint", e.Url, e.EventTypes, e.Status, e.FailingSince, e.DisabledAt, e.DisabledReason, e.CreatedAt)
        {
            PreviousSecretExpiresAt = e.PreviousSecretExpiresAt,
        };
    }
}
