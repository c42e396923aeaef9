using Clearflow.Application.Abstractions;
using Microsoft.Extensions.Options;

namespace Clearflow.Gateways.PayU;

/// <summary>PayU India with each merchant's key and salt; <c>mode</c> is <c>test</c> or <c>live</c> (PayU's keys do not say).</summary>
public sealed class PayUConnector(IHttpClientFactory clients, IOptions<PayUOptions> options) : IGatewayConnector
{
    public const string GatewayName = "payu";
    public const string HttpClientName = "payu";

    public string Name => GatewayName;

    public IReadOnlyList<CredentialField> Fields { get; } =
    [
        new("key", false, "the merchant key", []),
        new("salt", true, "the salt that signs every hash", []),
        new("mode", false, "'test' or 'live'", ["test", "live"]),
    ];

    public IPaymentGateway Bind(IReadOnlyDictionary<string, string> credentials) =>
        new PayUGateway(clients.CreateClient(HttpClientName), options.Value, credentials["key"], credentials["salt"], credentials["mode"] == "live");

    public Task<ConnectionCheck> TestConnectionAsync(IReadOnlyDictionary<string, string> credentials, CancellationToken cancellationToken) =>
        ((PayUGateway)Bind(credentials)).CheckKeyAsync(cancellationToken);
}
