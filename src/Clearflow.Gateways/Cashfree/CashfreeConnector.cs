using Clearflow.Application.Abstractions;
using Microsoft.Extensions.Options;

namespace Clearflow.Gateways.Cashfree;

/// <summary>Cashfree PG (API 2023-08-01) with each merchant's app credentials; the client secret also signs webhooks.</summary>
public sealed class CashfreeConnector(IHttpClientFactory clients, IOptions<CashfreeOptions> options) : IGatewayConnector
{
    public const string GatewayName = "cashfree";
    public const string HttpClientName = "cashfree";

    public string Name => GatewayName;

    public IReadOnlyList<CredentialField> Fields { get; } =
    [
        new("client_id", false, "the app id (x-client-id); sandbox ids start with TEST", []),
        new("client_secret", true, "the secret key (x-client-secret), which also signs webhooks", []),
    ];

    public IPaymentGateway Bind(IReadOnlyDictionary<string, string> credentials) =>
        new CashfreeGateway(clients.CreateClient(HttpClientName), options.Value, credentials["client_id"], credentials["client_secret"]);

    public Task<ConnectionCheck> TestConnectionAsync(IReadOnlyDictionary<string, string> credentials, CancellationToken cancellationToken) =>
        ((CashfreeGateway)Bind(credentials)).CheckKeyAsync(cancellationToken);
}
