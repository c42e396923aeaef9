using Clearflow.Application.Abstractions;
using Microsoft.Extensions.Options;

namespace Clearflow.Gateways.Stripe;

/// <summary>Stripe with each merchant's own keys: <c>secret_key</c>, <c>publishable_key</c> (for the app's checkout) and the webhook endpoint's <c>webhook_secret</c>.</summary>
public sealed class StripeConnector(IHttpClientFactory clients, IOptions<StripeOptions> options) : IGatewayConnector
{
    public const string GatewayName = "stripe";
    public const string HttpClientName = "stripe";

    public string Name => GatewayName;

    public IReadOnlyList<CredentialField> Fields { get; } =
    [
        new("secret_key", true, "the account's secret API key", ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]),
        new("publishable_key", false, "the publishable key the customer's app uses", ["pk_test_", "pk_live_"]),
        new("webhook_secret", true, "the signing secret of the webhook endpoint pointed at Clearflow", ["whsec_"]),
    ];

    public IPaymentGateway Bind(IReadOnlyDictionary<string, string> credentials) =>
        new StripeGateway(clients.CreateClient(HttpClientName), options.Value, new StripeGateway.Keys(
            credentials["secret_key"], credentials["publishable_key"], credentials["webhook_secret"]));

    public async Task<ConnectionCheck> TestConnectionAsync(IReadOnlyDictionary<string, string> credentials, CancellationToken cancellationToken)
    {
        var gateway = (StripeGateway)Bind(credentials);
        return await gateway.CheckKeyAsync(cancellationToken);
    }
}
