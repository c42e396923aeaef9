using System.Security.Claims;
using Clearflow.Application.Common;
using Clearflow.Application.Customers;
using Clearflow.Application.Orders.ListOrders;
using Clearflow.Server.Http;

namespace Clearflow.Server.Endpoints;

/// <summary>Order history: the merchant's filtered list and CSV export, a customer's orders, and customer tokens for "my payments" in the app.</summary>
public static class HistoryApi
{
    private const string FilterDoc = """
        Filters (all optional): `status` (one or more, comma-separated), `created_from` / `created_to` (a UTC date `2026-11-24`, whole days,
        or an instant with offset), `customer_id`, `amount_min` / `amount_max` (minor units, inclusive), `currency`, `gateway`,
        `q` (order id, or part of the receipt or of a gateway reference). Unknown parameters are refused.
        """;

    public static IEndpointRouteBuilder MapHistoryApi(this IEndpointRouteBuilder routes)
    {
        var orders = routes.MapGroup("/v1/orders").WithTags("History").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        orders.MapGet("/", ListAsync)
            .WithName("ListOrders")
            .WithSummary("List orders, newest first, filtered, one page at a time")
            .WithDescription(FilterDoc + "\nPaging: `limit` (1-100, default 25) and `cursor` (the previous page's `next_cursor`); pages stay stable while new orders arrive.")
            .Produces<ListOrders.Page<ListOrders.OrderSummary>>().ProducesProblem(400).ProducesProblem(401);
        orders.MapGet("/export", Export)
            .WithName("ExportOrders")
            .WithSummary("Export the filtered orders as CSV (streamed, any size)")
            .WithDescription(FilterDoc)
            .Produces(200, contentType: "text/csv").ProducesProblem(400).ProducesProblem(401);

        var customers = routes.MapGroup("/v1/customers/{customerId}").WithTags("History").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        customers.MapGet("/orders", ListForCustomerAsync)
            .WithName("ListCustomerOrders")
            .WithSummary("One customer's orders, newest first")
            .Produces<ListOrders.Page<ListOrders.OrderSummary>>().ProducesProblem(400).ProducesProblem(401);
        customers.MapPost("/tokens", MintTokenAsync)
            .WithName("CreateCustomerToken")
            .WithSummary("Mint a short-lived token with which the customer's app reads this customer's own payments")
            .WithDescription("Body (optional): `ttl_seconds` (60-3600, default 900). Give the token to the customer's app; it calls `GET /v1/customer/orders` with it.")
            .Produces<CustomerTokens.Minted>(StatusCodes.Status201Created).ProducesProblem(401).ProducesProblem(422);

        routes.MapGet("/v1/customer/orders", ListOwnAsync)
            .WithTags("History")
            .RequireAuthorization(ApiKeyAuthentication.CustomerPolicy)
            .WithName("ListMyOrders")
            .WithSummary("The token holder's own payments (customer token)")
            .WithDescription("`Authorization: Bearer ctok_...`. Same filters and paging as the merchant's list, without `customer_id`.")
            .Produces<ListOrders.Page<ListOrders.CustomerOrderSummary>>().ProducesProblem(400).ProducesProblem(401);
        return routes;
    }

    private static string MerchantId(ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!;

    private static async Task<IResult> ListAsync(HttpRequest request, ClaimsPrincipal user, ListOrders list, CancellationToken cancellationToken)
    {
        var result = await list.HandleAsync(MerchantId(user), request.Query.Flatten(), null, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static IResult Export(HttpRequest request, ClaimsPrincipal user, ExportOrders export, TimeProvider clock)
    {
        var query = ExportOrders.Validate(MerchantId(user), request.Query.Flatten());
        return query.IsSuccess ? new OrderCsvResult(query.Value!, export, clock) : query.Error!.ToResult();
    }

    private static async Task<IResult> ListForCustomerAsync(string customerId, HttpRequest request, ClaimsPrincipal user, ListOrders list,
        CancellationToken cancellationToken)
    {
        var result = await list.HandleAsync(MerchantId(user), request.Query.Flatten(), customerId, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> MintTokenAsync(string customerId, HttpRequest request, ClaimsPrincipal user, CustomerTokens tokens,
        CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, 4096, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var (ttl, invalid) = ReadLifetime(body ?? []);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }
        var result = await tokens.MintAsync(MerchantId(user), customerId, ttl, cancellationToken);
        return result.IsSuccess ? TypedResults.Json(result.Value, statusCode: StatusCodes.Status201Created) : result.Error!.ToResult();
    }

    private static async Task<IResult> ListOwnAsync(HttpRequest request, ClaimsPrincipal user, ListOrders list, CancellationToken cancellationToken)
    {
        var result = await list.HandleForCustomerAsync(user.FindFirstValue(ApiKeyAuthentication.CustomerMerchantClaim)!,
            user.FindFirstValue(ApiKeyAuthentication.CustomerIdClaim)!, request.Query.Flatten(), cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static (long? Seconds, Problem? Error) ReadLifetime(byte[] body)
    {
        if (body.Length == 0)
        {
            return (null, null);
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                return (null, Problem.BadRequest("invalid-json", "The body must be a JSON object, like {\"ttl_seconds\": 900}."));
            }
            if (!document.RootElement.TryGetProperty("ttl_seconds", out var ttl))
            {
                return (null, null);
            }
            return ttl.ValueKind == System.Text.Json.JsonValueKind.Number && ttl.TryGetInt64(out var seconds)
                ? (seconds, null)
                : (null, Problem.Validation("ttl_seconds", "A whole number of seconds, 60 to 3600."));
        }
        catch (System.Text.Json.JsonException)
        {
            return (null, Problem.BadRequest("invalid-json", "The body is not valid JSON."));
        }
    }
}
