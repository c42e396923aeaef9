using System.Collections.Concurrent;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Gateways;

namespace Clearflow.Gateways;

/// <summary>
/// All gateways by name: the credential-free ones (sandbox) as they are, and connectors bound to a
/// merchant's credentials on each use. The opened credentials are kept per sealed value, so they are
/// decrypted once per change, not once per call.
/// </summary>
public sealed class GatewayRegistry(IEnumerable<IPaymentGateway> gateways, IEnumerable<IGatewayConnector> connectors, IGatewayCredentialStore credentials,
    ISecretBox secrets) : IGatewayRegistry
{
    /// <summary>Decrypted credentials by merchant and gateway, kept while the sealed value is unchanged (only the opening is cached, not the HTTP client).</summary>
    private static readonly ConcurrentDictionary<(string Merchant, string Gateway), (string Sealed, IReadOnlyDictionary<string, string> Credentials)> Opened = new();

    private readonly Dictionary<string, IPaymentGateway> _plain = gateways.ToDictionary(g => g.Name, StringComparer.Ordinal);
    private readonly Dictionary<string, IGatewayConnector> _connectors = connectors.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public IPaymentGateway? Find(string name) => _plain.GetValueOrDefault(name);

    public IReadOnlyCollection<string> Names { get; } = [.. gateways.Select(g => g.Name), .. connectors.Select(c => c.Name)];

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
        if (!Opened.TryGetValue((merchantId, name), out var opened) || opened.Sealed != stored.Sealed)
        {
            opened = (stored.Sealed, CredentialSealing.Open(secrets, stored));
            Opened[(merchantId, name)] = opened;
        }
        // Bound per use: the connector takes its HttpClient from the factory, which rotates handlers.
        return connector.Bind(opened.Credentials);
    }
}
