using System.Security.Claims;
using Clearflow.Application.Common;
using Clearflow.Application.Orders.GetOrder;
using Clearflow.Server.Http;
using Clearflow.Server.LiveStatus;

namespace Clearflow.Server.Endpoints;

/// <summary>
/// <c>GET /v1/orders/{id}/events</c>: server-sent events with the order's status, sent at once and again on
/// every change (also one committed on another node), until the status is final. For a customer's
/// "Processing" screen: <c>new EventSource('/v1/orders/ID/events?client_secret=...')</c>.
/// </summary>
public static class OrderEventsApi
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan MaxStream = TimeSpan.FromMinutes(30);

    public static IEndpointRouteBuilder MapOrderEventsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/orders/{id}/events", StreamAsync)
            .RequireAuthorization(ApiKeyAuthentication.OrderReaderPolicy)
            .WithTags("Orders")
            .WithName("OrderEvents")
            .WithSummary("Live status as server-sent events (text/event-stream): an 'status' event now and on each change, 'end' once final")
            .Produces(200, contentType: "text/event-stream").ProducesProblem(401).ProducesProblem(404);
        return routes;
    }

    private sealed record StatusEvent(string Id, string Status, bool IsFinal, long AmountPaid, long AmountRefunded, string? StatusReason, DateTimeOffset UpdatedAt);

    private static async Task StreamAsync(string id, HttpContext context, ClaimsPrincipal user, GetOrder getOrder, OrderStatusFeed feed, CancellationToken cancellationToken)
    {
        OrderReader reader = user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim) is { } merchantId
            ? new OrderReader.Merchant(merchantId)
            : new OrderReader.ClientSecret(user.FindFirstValue(ApiKeyAuthentication.ClientSecretClaim)!);
        // Subscribe before the first read, so a change between the two is not missed.
        using var subscription = feed.Subscribe(id);
        var first = await getOrder.HandleAsync(id, reader, cancellationToken);
        if (!first.IsSuccess)
        {
            await first.Error!.ToResult().ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lifetime.CancelAfter(MaxStream);
        string? sent = null;
        var view = first.Value!;
        try
        {
            while (true)
            {
                if (view.Status != sent)
                {
                    var data = Json.Serialize(new StatusEvent(view.Id, view.Status, view.IsFinal, view.AmountPaid, view.AmountRefunded, view.StatusReason, view.UpdatedAt));
                    await response.WriteAsync($"event: status\ndata: {data}\n\n", lifetime.Token);
                    await response.Body.FlushAsync(lifetime.Token);
                    sent = view.Status;
                }
                if (view.IsFinal)
                {
                    await response.WriteAsync("event: end\ndata: {}\n\n", lifetime.Token);
                    return;
                }
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token))
                {
                    wait.CancelAfter(Heartbeat);
                    try
                    {
                        await subscription.Changes.WaitToReadAsync(wait.Token);
                        subscription.Changes.TryRead(out _);
                    }
                    catch (OperationCanceledException) when (!lifetime.IsCancellationRequested)
                    {
                        await response.WriteAsync(": keep-alive\n\n", lifetime.Token);
                        await response.Body.FlushAsync(lifetime.Token);
                    }
                }
                var next = await getOrder.HandleAsync(id, reader, lifetime.Token);
                if (!next.IsSuccess)
                {
                    return;
                }
                view = next.Value!;
            }
        }
        catch (OperationCanceledException)
        {
            // the client went away, or the stream reached its maximum length: the client reconnects if it still cares
        }
    }
}
