using System.Security.Claims;
using Clearflow.Application.Notifications;
using Clearflow.Server.Http;

namespace Clearflow.Server.Endpoints;

/// <summary>Merchant webhook endpoints, their deliveries, and an order's notifications.</summary>
public static class NotificationsApi
{
    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder routes)
    {
        var endpoints = routes.MapGroup("/v1/webhook-endpoints").WithTags("Webhooks").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        endpoints.MapPost("/", CreateAsync).WithName("CreateWebhookEndpoint")
            .WithSummary("Subscribe an endpoint to events; the signing secret is returned once")
            .WithDescription("""
                Body: `url` (public http(s); private, loopback and link-local addresses are refused), `event_types` (e.g. ["order.succeeded","refund.succeeded"], or ["*"]).
                Deliveries are signed by the Standard Webhooks convention (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`)
                and retried after 1m, 5m, 30m, 2h, 6h, 12h, 24h and daily for up to 3 days. An endpoint failing for 3 days is disabled and the operators are told.
                """)
            .WithMetadata(new Http.OpenApi.RequestBodyDoc(typeof(CreateEndpointDoc)))
            .Produces<WebhookEndpointView>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(422);
        endpoints.MapGet("/", ListAsync).WithSummary("The merchant's webhook endpoints").Produces<IReadOnlyList<WebhookEndpointView>>();
        endpoints.MapPost("/{id}/rotate-secret", RotateAsync).WithSummary("New signing secret; the old one keeps signing too until the overlap ends (?overlap=1.00:00:00, default 24 h)")
            .Produces<WebhookEndpointView>().ProducesProblem(404);
        endpoints.MapPost("/{id}/enable", (string id, ClaimsPrincipal user, ManageWebhookEndpoint manage, CancellationToken ct) => SetStatusAsync(id, "enabled", user, manage, ct))
            .WithSummary("Enable an endpoint again (after it was disabled for failing)").Produces<WebhookEndpointView>().ProducesProblem(404);
        endpoints.MapPost("/{id}/disable", (string id, ClaimsPrincipal user, ManageWebhookEndpoint manage, CancellationToken ct) => SetStatusAsync(id, "disabled", user, manage, ct))
            .WithSummary("Stop sending to an endpoint").Produces<WebhookEndpointView>().ProducesProblem(404);
        endpoints.MapDelete("/{id}", (string id, ClaimsPrincipal user, ManageWebhookEndpoint manage, CancellationToken ct) => SetStatusAsync(id, "deleted", user, manage, ct))
            .WithSummary("Delete an endpoint").ProducesProblem(404);
        endpoints.MapGet("/{id}/deliveries", EndpointDeliveriesAsync).WithSummary("What was sent to the endpoint, with every attempt (status code, latency, response excerpt)")
            .Produces<IReadOnlyList<DeliveryHistory.DeliveryView>>().ProducesProblem(404);

        var merchant = routes.MapGroup("/v1").WithTags("Webhooks").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        merchant.MapPost("/webhook-deliveries/{id}/replay", ReplayAsync).WithSummary("Send a delivery again now (keeps its webhook-id)")
            .Produces<DeliveryHistory.DeliveryView>().ProducesProblem(404).ProducesProblem(409);
        merchant.MapGet("/orders/{id}/notifications", OrderNotificationsAsync).WithSummary("Every notification of an order and its delivery attempts")
            .Produces<IReadOnlyList<DeliveryHistory.DeliveryView>>();
        return routes;
    }

    private static string MerchantId(ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!;

    private static async Task<IResult> CreateAsync(HttpRequest request, ClaimsPrincipal user, CreateWebhookEndpoint create, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, 16 * 1024, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var result = await create.HandleAsync(MerchantId(user), body, cancellationToken);
        return result.IsSuccess ? TypedResults.Created($"/v1/webhook-endpoints/{result.Value!.Id}", result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> ListAsync(ClaimsPrincipal user, ManageWebhookEndpoint manage, CancellationToken cancellationToken) =>
        TypedResults.Ok(await manage.ListAsync(MerchantId(user), cancellationToken));

    private static async Task<IResult> RotateAsync(string id, TimeSpan? overlap, ClaimsPrincipal user, ManageWebhookEndpoint manage, CancellationToken cancellationToken)
    {
        var result = await manage.RotateSecretAsync(MerchantId(user), id, overlap, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> SetStatusAsync(string id, string status, ClaimsPrincipal user, ManageWebhookEndpoint manage, CancellationToken cancellationToken)
    {
        var result = await manage.SetStatusAsync(MerchantId(user), id, status, cancellationToken);
        return !result.IsSuccess ? result.Error!.ToResult() : status == "deleted" ? TypedResults.NoContent() : TypedResults.Ok(result.Value);
    }

    private static async Task<IResult> EndpointDeliveriesAsync(string id, ClaimsPrincipal user, DeliveryHistory history, CancellationToken cancellationToken)
    {
        var result = await history.ForEndpointAsync(MerchantId(user), id, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> ReplayAsync(string id, ClaimsPrincipal user, DeliveryHistory history, CancellationToken cancellationToken)
    {
        var result = await history.ReplayAsync(MerchantId(user), id, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> OrderNotificationsAsync(string id, ClaimsPrincipal user, DeliveryHistory history, CancellationToken cancellationToken) =>
        TypedResults.Ok(await history.ForOrderAsync(MerchantId(user), id, cancellationToken));

    public sealed record CreateEndpointDoc(string Url, IReadOnlyList<string> EventTypes);
}
