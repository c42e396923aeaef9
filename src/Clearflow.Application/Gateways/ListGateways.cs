using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Gateways;

/// <summary><c>GET /v1/merchant/gateways</c>: every gateway, whether this merchant has credentials for it (hint only), and its fields.</summary>
public sealed class ListGateways(IGatewayRegistry gateways, IGatewayCredentialStore store, GatewayHealth health)
{
    /// <param name="Circuit">"closed" (healthy), "open" (failing: new orders go elsewhere) or "half_open" (trying again).</param>
    public sealed record GatewayView(string Object, string Gateway, bool NeedsCredentials, bool Configured, string? Hint, string? KeyId, DateTimeOffset? UpdatedAt,
        IReadOnlyList<string> Fields, string Circuit, int ConsecutiveFailures);

    public async Task<IReadOnlyList<GatewayView>> HandleAsync(string merchantId, CancellationToken cancellationToken)
    {
        var stored = (await store.ListGatewayCredentialsAsync(merchantId, cancellationToken)).ToDictionary(c => c.Gateway, StringComparer.Ordinal);
        return [.. gateways.Names.Order(StringComparer.Ordinal).Select(name =>
        {
            var connector = gateways.FindConnector(name);
            var credentials = stored.GetValueOrDefault(name);
            var circuit = health.View(name);
            return new GatewayView("gateway", name, connector is not null, connector is null || credentials is not null, credentials?.Hint, credentials?.KeyId,
                credentials?.UpdatedAt, connector?.Fields.Select(f => f.Name).ToArray() ?? [], circuit.State, circuit.ConsecutiveFailures);
        })];
    }
}
