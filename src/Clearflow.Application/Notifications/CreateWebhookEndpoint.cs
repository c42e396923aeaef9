using System.Security.Cryptography;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Notifications;

/// <summary><c>POST /v1/webhook-endpoints</c> <c>{"url", "event_types": ["order.succeeded", ...] or ["*"]}</c>.</summary>
public sealed class CreateWebhookEndpoint(INotificationStore store, WebhookUrlCheck urlCheck, IdGenerator ids, TimeProvider clock)
{
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public async Task<Result<WebhookEndpointView>> HandleAsync(string merchantId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        string? url;
        List<string>? eventTypes;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            url = root.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            eventTypes = root.TryGetProperty("event_types", out var e) && e.ValueKind == JsonValueKind.Array
                ? [.. e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : "")]
                : null;
        }
        catch (JsonException ex)
        {
            return Problem.BadRequest("malformed-json", $"The body is not valid JSON: {ex.Message}");
        }
        var errors = new Dictionary<string, string[]>();
        if (await urlCheck.ProblemAsync(url, cancellationToken) is { } urlProblem)
        {
            errors["url"] = [urlProblem];
        }
        if (eventTypes is null || eventTypes.Count == 0)
        {
            errors["event_types"] = ["List the events to receive, or [\"*\"] for all."];
        }
        else if (eventTypes.Where(t => t != "*" && !EventTypes.All.Contains(t)).ToList() is { Count: > 0 } unknown)
        {
            errors["event_types"] = [$"Unknown event types: {string.Join(", ", unknown)}. Known: {string.Join(", ", EventTypes.All)}."];
        }
        if (errors.Count > 0)
        {
            return Problem.Validation(errors);
        }
        var endpoint = new WebhookEndpointRecord(ids.New("we_"), merchantId, url!, eventTypes!.Distinct().ToList(), NewSecret(), null, null, "enabled", null, null, null, clock.GetUtcNow());
        await store.AddWebhookEndpointAsync(endpoint, cancellationToken);
        return WebhookEndpointView.From(endpoint) with { Secret = endpoint.Secret };
    }
}
