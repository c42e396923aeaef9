using Clearflow.Application.Abstractions;
using Microsoft.Extensions.Options;

namespace Clearflow.Gateways.Razorpay;

/// <summary>Razorpay with each merchant's keys: <c>key_id</c> (also given to the checkout), <c>key_secret</c>, and the webhook's <c>webhook_secret</c>.</summary>
public sealed class RazorpayConnector(IHttpClientFactory clients, IOptions<RazorpayOptions> options) : IGatewayConnector
{
    public const string GatewayName = "razorpay";
    public const string HttpClientName = "razorpay";

    public string Name => GatewayName;

    public IReadOnlyList<CredentialField> Fields { get; } =
    [
        new("key_id", false, "the API key id (test or live)", ["rzp_test_", "rzp_live_"]),
        new("key_secret", true, "the API key secret", []),
        new("webhook_secret", true, "the secret set on the webhook pointed at Clearflow", []),
    ];

    public IPaymentGateway Bind(IReadOnlyDictionary<string, string> credentials) =>
        new RazorpayGateway(clients.CreateClient(HttpClientName), options.Value,
            new RazorpayGateway.Keys(credentials["key_id"], credentials["key_secret"], credentials["webhook_secret"]));

    public Task<ConnectionCheck> TestConnectionAsync(IReadOnlyDictionary<string, string> credentials, CancellationToken cancellationToken) =>
        ((RazorpayGateway)Bind(credentials)).CheckKeyAsync(cancellationToken);
}
