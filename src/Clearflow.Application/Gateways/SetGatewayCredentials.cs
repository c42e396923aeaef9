using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Gateways;

/// <summary>
/// <c>PUT /v1/merchant/gateways/{gateway}/credentials</c>: checks the fields the connector needs, seals
/// them and stores them. The answer shows only a hint; the secrets are never returned or logged.
/// </summary>
public sealed class SetGatewayCredentials(IGatewayRegistry gateways, IGatewayCredentialStore store, ISecretBox secrets, TimeProvider clock)
{
    public sealed record CredentialsView(string Object, string Gateway, bool Configured, string? Hint, string? KeyId, DateTimeOffset? UpdatedAt);

    public async Task<Result<CredentialsView>> HandleAsync(string merchantId, string gateway, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var connector = gateways.FindConnector(gateway);
        if (connector is null)
        {
            return gateways.Find(gateway) is null
                ? Problem.NotFound("Gateway", gateway)
                : Problem.Validation("gateway", $"'{gateway}' needs no credentials.");
        }
        Dictionary<string, string>? fields;
        try
        {
            fields = JsonSerializer.Deserialize<Dictionary<string, string>>(body.Span);
        }
        catch (JsonException)
        {
            fields = null;
        }
        if (fields is null)
        {
            return Problem.BadRequest("malformed-json",
                $"The body must be a JSON object of strings: {string.Join(", ", connector.Fields.Select(f => $"\"{f.Name}\""))}.");
        }
        var errors = new Dictionary<string, string[]>();
        foreach (var field in connector.Fields)
        {
            if (!fields.TryGetValue(field.Name, out var value) || string.IsNullOrWhiteSpace(value))
            {
                errors[field.Name] = [$"Required: {field.Description}."];
            }
            else if (field.Prefixes.Count > 0 && !field.Prefixes.Any(p => value.StartsWith(p, StringComparison.Ordinal)))
            {
                errors[field.Name] = [$"Must start with {string.Join(" or ", field.Prefixes)} ({field.Description})."];
            }
            else if (value.Length > 512)
            {
                errors[field.Name] = ["At most 512 characters."];
            }
        }
        foreach (var extra in fields.Keys.Where(k => connector.Fields.All(f => f.Name != k)))
        {
            errors[extra] = [$"Unknown field for {gateway}. Fields: {string.Join(", ", connector.Fields.Select(f => f.Name))}."];
        }
        if (errors.Count > 0)
        {
            return Problem.Validation(errors);
        }
        var now = clock.GetUtcNow();
        var existing = await store.GetGatewayCredentialsAsync(merchantId, gateway, cancellationToken);
        var record = new GatewayCredentialRecord(merchantId, gateway, CredentialSealing.Seal(secrets, merchantId, gateway, fields), secrets.ActiveKeyId,
            CredentialSealing.Hint(connector, fields), existing?.CreatedAt ?? now, now);
        await store.PutGatewayCredentialsAsync(record, cancellationToken);
        return View(record);
    }

    public static CredentialsView View(GatewayCredentialRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new CredentialsView("gateway_credentials", record.Gateway, true, record.Hint, record.KeyId, record.UpdatedAt);
    }
}
