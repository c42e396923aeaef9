using System.Collections.Concurrent;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Gateways;

namespace Clearflow.Gateways;

/// <summary>
/// All gateways by name: the credential-free ones (sandbox) as they are, and connectors bound to a
/// merchant's credentials on demand. A bound connector is kept per sealed value, so credentials are
/// decrypted once per change, not once per call.
/// </summary>
public sealed class GatewayRegistry(IEnumerable<IPaymentGateway> gateways, IEnumerable<IGatewayConnector> connectors, IGatewayCredentialStore credentials,
    ISecretBox secrets) : IGatewayRegistry
{
    private static readonly ConcurrentDictionary<(string Merchant, string Gateway), (string Sealed, IPaymentGateway Bound)> Bound = new();

    private readonly Dictionary<string, IPaymentGateway> _plain = gateways.ToDictionary(g => g.Name, StringComparer.Ordinal);
    private readonly Dictionary<string, IGatewayConnector> _connectors = connectors.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public IPaymentGateway? Find(string name) => _plain.GetValueOrDefault(name);

    public IReadOnlyCollection<string> Names => [.. _plain.Keys, .. _connectors.Keys];

    public IGatewayConnector? FindConnector(string name) => _connectors.GetValueOrDefault(name);

    public async Task<IPaymentGateway?> ResolveAsync(string merchantId, string name, CancellationToken cancellationToken)
    {
        if (_plain.TryGetValue(name, out var plain))
        {
            return plain;
        }
        if (!_connectors.TryGetValue(name, out var connector))
        {
            return null;
        }
        var stored = await credentials.GetGatewayCredentialsAsync(merchantId, name, cancellationToken);
        if (stored is null)
        {
            return null;
        }
        if (Bound.TryGetValue((merchantId, name), out var cached) && cached.Sealed == stored.Sealed)
        {
            return cached.Bound;
        }
        var bound = connector.Bind(CredentialSealing.Open(secrets, stored));
        Bound[(merchantId, name)] = (stored.Sealed, bound);
        return bound;
    }
}
