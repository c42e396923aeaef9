using System.Security.Claims;
using Clearflow.Application.Refunds;
using Clearflow.Server.Http;

namespace Clearflow.Server.Endpoints;

/// <summary>Refunds of an order.</summary>
public static class RefundsApi
{
    public const int MaxBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapRefundsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/orders/{id}/refunds").WithTags("Refunds").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        group.MapPost("/", CreateAsync)
            .WithName("CreateRefund")
            .WithSummary("Refund an order, fully (no amount) or partly")
            .WithDescription("""
                Body (optional): `amount` (integer minor units; default: all that is left), `currency` (must be the order's), `reason`.
                Requires `Idempotency-Key`: the same key returns the same refund (200), never a second one. Concurrent refunds can never add up to
                more than was paid. The refund is `pending` until the gateway settles it; Clearflow checks until it is final.
                """)
            .WithMetadata(new Http.OpenApi.RequestBodyDoc(typeof(CreateRefundBodyDoc)))
            .Produces<RefundView>(StatusCodes.Status201Created).Produces<RefundView>()
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        group.MapGet("/", ListAsync).WithName("ListRefunds").WithSummary("All refunds of an order").Produces<IReadOnlyList<RefundView>>().ProducesProblem(404);
        group.MapGet("/{refundId}", GetAsync).WithName("GetRefund").WithSummary("One refund").Produces<RefundView>().ProducesProblem(404);
        return routes;
    }

    private static string MerchantId(ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!;

    private static async Task<IResult> CreateAsync(string id, HttpRequest request, ClaimsPrincipal user, CreateRefund create, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var result = await create.HandleAsync(MerchantId(user), id, request.Headers["Idempotency-Key"].ToString(), body, cancellationToken);
        if (!result.IsSuccess)
        {
            return result.Error!.ToResult();
        }
        return result.Value!.Created
            ? TypedResults.Created($"/v1/orders/{id}/refunds/{result.Value.Refund.Id}", result.Value.Refund)
            : TypedResults.Ok(result.Value.Refund);
    }

    private static async Task<IResult> ListAsync(string id, ClaimsPrincipal user, GetRefunds refunds, CancellationToken cancellationToken)
    {
        var result = await refunds.ListAsync(MerchantId(user), id, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> GetAsync(string id, string refundId, ClaimsPrincipal user, GetRefunds refunds, CancellationToken cancellationToken)
    {
        var result = await refunds.GetAsync(MerchantId(user), id, refundId, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    public sealed record CreateRefundBodyDoc(long? Amount, string? Currency, string? Reason);
}
