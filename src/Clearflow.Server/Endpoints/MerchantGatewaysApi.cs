using System.Security.Claims;
using Clearflow.Application.Gateways;
using Clearflow.Server.Http;

namespace Clearflow.Server.Endpoints;

/// <summary>The merchant's gateways: credentials (write-only: never returned, never logged) and "test connection".</summary>
public static class MerchantGatewaysApi
{
    public const int MaxBodyBytes = 8 * 1024;

    public static IEndpointRouteBuilder MapMerchantGatewaysApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/merchant/gateways").WithTags("Gateways").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        group.MapGet("/", async (ClaimsPrincipal user, ListGateways list, CancellationToken cancellationToken) =>
                TypedResults.Ok(await list.HandleAsync(MerchantId(user), cancellationToken)))
            .WithName("ListMerchantGateways")
            .WithSummary("Every gateway: whether it needs credentials, whether this merchant has set them (a hint only), and its fields");
        group.MapPut("/{gateway}/credentials", SetAsync)
            .WithName("SetGatewayCredentials")
            .WithSummary("Store this merchant's credentials for a gateway, encrypted (AES-256-GCM); the answer shows only a hint")
            .WithDescription("Body: a JSON object of the gateway's fields, e.g. Stripe `{\"secret_key\":\"sk_test_...\",\"publishable_key\":\"pk_test_...\",\"webhook_secret\":\"whsec_...\"}`.")
            .Produces<SetGatewayCredentials.CredentialsView>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
        group.MapPost("/{gateway}/test", async (string gateway, ClaimsPrincipal user, TestGatewayConnection test, CancellationToken cancellationToken) =>
            {
                var result = await test.HandleAsync(MerchantId(user), gateway, cancellationToken);
                return result.IsSuccess ? Results.Ok(result.Value) : result.Error!.ToResult();
            })
            .WithName("TestGatewayConnection")
            .WithSummary("Check the stored credentials with one harmless call to the gateway")
            .Produces<TestGatewayConnection.TestView>().ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        group.MapGet("/{gateway}/settlements", async (string gateway, string? from, string? to, ClaimsPrincipal user, GetSettlements settlements,
                CancellationToken cancellationToken) =>
            {
                var result = await settlements.HandleAsync(MerchantId(user), gateway, from, to, cancellationToken);
                return result.IsSuccess ? Results.Ok(result.Value) : result.Error!.ToResult();
            })
            .WithName("GetGatewaySettlements")
            .WithSummary("The gateway's settlement lines for UTC dates `from`..`to` (at most 31 days), matched to Clearflow orders, with fees, tax and totals")
            .Produces<GetSettlements.SettlementsView>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422).ProducesProblem(503);
        return routes;
    }

    private static string MerchantId(ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!;

    private static async Task<IResult> SetAsync(string gateway, HttpRequest request, ClaimsPrincipal user, SetGatewayCredentials set, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var result = await set.HandleAsync(MerchantId(user), gateway, body ?? [], cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }
}
