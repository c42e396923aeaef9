using Clearflow.Application.Abstractions;

namespace Clearflow.Gateways;

/// <summary>All registered connectors by name.</summary>
public sealed class GatewayRegistry(IEnumerable<IPaymentGateway> gateways) : IGatewayRegistry
{
    private readonly Dictionary<string, IPaymentGateway> _byName = gateways.ToDictionary(g => g.Name, StringComparer.Ordinal);

    public IPaymentGateway? Find(string name) => _byName.GetValueOrDefault(name);

    public IReadOnlyCollection<string> Names => _byName.Keys;
}
