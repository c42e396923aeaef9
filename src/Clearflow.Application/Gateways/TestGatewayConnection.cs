using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Gateways;

/// <summary><c>POST /v1/merchant/gateways/{gateway}/test</c>: one harmless authenticated call with the stored credentials.</summary>
public sealed class TestGatewayConnection(IGatewayRegistry gateways, IGatewayCredentialStore store, ISecretBox secrets)
{
    public sealed record TestView(string Object, string Gateway, bool Ok, string Message);

    public async Task<Result<TestView>> HandleAsync(string merchantId, string gateway, CancellationToken cancellationToken)
    {
        var connector = gateways.FindConnector(gateway);
        if (connector is null)
        {
            return gateways.Find(gateway) is null ? Problem.NotFound("Gateway", gateway) : new TestView("gateway_test", gateway, true, "Needs no credentials.");
        }
        var stored = await store.GetGatewayCredentialsAsync(merchantId, gateway, cancellationToken);
        if (stored is null)
        {
            return Problem.Conflict("gateway-not-configured", $"No {gateway} credentials are set: PUT /v1/merchant/gateways/{gateway}/credentials first.");
        }
        var check = await connector.TestConnectionAsync(CredentialSealing.Open(secrets, stored), cancellationToken);
        return check.Ok
            ? new TestView("gateway_test", gateway, true, check.Message)
            : new Problem(422, "gateway-credentials-rejected", $"{gateway} refused the credentials.",
                $"{gateway} answered{(check.Code is null ? "" : $" '{check.Code}'")}: {check.Message}");
    }
}
