using System.Security.Claims;
using Clearflow.Application.Checks;
using Clearflow.Application.Orders.CreateOrder;
using Clearflow.Application.Orders.GetOrder;
using Clearflow.Server.Http;
using Clearflow.Server.Http.OpenApi;

namespace Clearflow.Server.Endpoints;

/// <summary>The merchant's order API. Handlers translate HTTP only; the work is in the use cases.</summary>
public static class OrdersApi
{
    /// <summary>Order bodies are small; anything near this is a mistake or an attack.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/orders").WithTags("Orders");
        group.MapPost("/", CreateOrderAsync)
            .RequireAuthorization(ApiKeyAuthentication.MerchantPolicy)
            .WithMetadata(ApiKeyCheckedInWrite.Instance)
            .WithName("CreateOrder")
            .WithSummary("Create an order and its payment at the gateway")
            .WithDescription("""
                Body: `amount` (integer minor units), `currency` (ISO 4217), `receipt` (unique per merchant, at most 40 characters),
                `customer` {`id`, `email`?, `phone`?, `name`?}, `metadata` (string pairs), `gateway`?, `return_url`?.
                Requires an `Idempotency-Key` header: the same key and body replays the first response (header `Idempotent-Replayed: true`),
                the same key with another body is a 422, and a concurrent request with the same key is a 409.
                Replies 201 with the order `id`, `status`, the `checkout` payload for the customer's app and a `client_secret`.
                """)
            .WithMetadata(new RequestBodyDoc(typeof(CreateOrderBodyDoc)))
            .Produces<CreateOrder.CheckoutView>(StatusCodes.Status201Created)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(413).ProducesProblem(422).ProducesProblem(503);
        group.MapGet("/{id}", GetOrderAsync)
            .RequireAuthorization(ApiKeyAuthentication.OrderReaderPolicy)
            .WithName("GetOrder")
            .WithSummary("Read an order: status, amounts, attempts and timeline")
            .WithDescription("Authorised by the merchant's secret key, or by the order's `client_secret` (header `Authorization: Bearer <client_secret>` or query `client_secret`), which sees no customer data or metadata.")
            .Produces<GetOrder.OrderView>()
            .ProducesProblem(401).ProducesProblem(404);
        group.MapPost("/{id}/recheck", RecheckAsync)
            .RequireAuthorization(ApiKeyAuthentication.MerchantPolicy)
            .WithName("RecheckOrder")
            .WithSummary("Ask the gateway about this order now, whatever the check schedule says")
            .Produces<GetOrder.OrderView>()
            .ProducesProblem(401).ProducesProblem(404);
        return routes;
    }

    private static async Task<IResult> CreateOrderAsync(HttpRequest request, ClaimsPrincipal user, CreateOrder createOrder, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var parsed = CreateOrderRequest.Parse(body);
        if (!parsed.IsSuccess)
        {
            return parsed.Error!.ToResult();
        }
        var merchantId = user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!;
        var result = await createOrder.HandleAsync(new CreateOrder.Caller(merchantId, user.FindFirstValue(ApiKeyAuthentication.UncheckedKeyHashClaim)),
            request.Headers["Idempotency-Key"].ToString(), parsed.Value!, cancellationToken);
        if (!result.IsSuccess)
        {
            return result.Error!.ToResult();
        }
        var reply = result.Value!;
        if (reply.Replayed)
        {
            request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        }
        return new StoredJsonResult(reply.StatusCode, reply.Body);
    }

    private static async Task<IResult> GetOrderAsync(string id, ClaimsPrincipal user, GetOrder getOrder, CancellationToken cancellationToken)
    {
        OrderReader reader = user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim) is { } merchantId
            ? new OrderReader.Merchant(merchantId)
            : new OrderReader.ClientSecret(user.FindFirstValue(ApiKeyAuthentication.ClientSecretClaim)!);
        var result = await getOrder.HandleAsync(id, reader, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> RecheckAsync(string id, ClaimsPrincipal user, RecheckOrder recheck, CancellationToken cancellationToken)
    {
        var result = await recheck.HandleAsync(user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!, id, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    /// <summary>Writes a response body exactly as stored, so a replay is byte-for-byte the first answer.</summary>
    private sealed class StoredJsonResult(int statusCode, string body) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = statusCode;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            return httpContext.Response.WriteAsync(body);
        }
    }

    /// <summary>The request body, for the OpenAPI document only (the endpoint reads raw bytes to validate them precisely).</summary>
    public sealed record CreateOrderBodyDoc(long Amount, string Currency, string Receipt, CustomerDoc Customer, Dictionary<string, string>? Metadata, string? Gateway, string? ReturnUrl);

    public sealed record CustomerDoc(string Id, string? Email, string? Phone, string? Name);
}
