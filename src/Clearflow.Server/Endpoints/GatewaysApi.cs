using System.Net;
using Clearflow.Application.Payments;
using Clearflow.Server.Http;

namespace Clearflow.Server.Endpoints;

/// <summary>
/// What gateways and customers' browsers call: the signed webhook and the return URL (client callback).
/// <para>
/// Webhook answers: 200 once the event is durably stored (also for a duplicate, so the gateway stops
/// retrying); 401 for a missing, wrong or stale signature (never from the real gateway, so its retries
/// do no harm); 400 for a signed body we cannot read; 404 for an unknown gateway name; 413 for a body
/// over 256 KiB.
/// </para>
/// </summary>
public static class GatewaysApi
{
    public const int MaxWebhookBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapGatewaysApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/gateways/{gateway}").WithTags("Gateways").AllowAnonymous();
        group.MapPost("/webhooks", ReceiveWebhookAsync)
            .WithName("ReceiveGatewayWebhook")
            .WithSummary("Signed server-to-server notification from a gateway")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(413);
        group.MapPost("/webhooks/{merchantId}", ReceiveWebhookAsync)
            .WithName("ReceiveMerchantGatewayWebhook")
            .WithSummary("Signed notification from a gateway that uses the merchant's own credentials (Stripe, Razorpay, ...)")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(413);
        // Razorpay's checkout (redirect mode) posts its signed result to the callback URL as a form.
        group.MapPost("/return", ReceiveCallbackAsync).ExcludeFromDescription().DisableAntiforgery();
        group.MapGet("/return", ReceiveCallbackAsync)
            .WithName("GatewayReturn")
            .WithSummary("Where the gateway sends the customer back (client callback); a hint that triggers a status fetch")
            .ProducesProblem(400).ProducesProblem(404);
        return routes;
    }

    private static async Task<IResult> ReceiveWebhookAsync(string gateway, string? merchantId, HttpRequest request, ReceiveWebhook receiveWebhook,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, MaxWebhookBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var result = await receiveWebhook.HandleAsync(gateway, merchantId, headers, body!, cancellationToken);
        if (!result.IsSuccess)
        {
            // Recorded for operators (never the body or headers, which may carry secrets); nothing was stored or changed.
            loggers.CreateLogger("Clearflow.Webhooks").LogWarning("Rejected a {Gateway} webhook for merchant {MerchantId} from {Remote}: {Code} {Detail}",
                gateway, merchantId ?? "-", request.HttpContext.Connection.RemoteIpAddress, result.Error!.Code, result.Error.Detail);
        }
        return result.IsSuccess
            ? TypedResults.Ok(new { received = true, duplicate = result.Value == ReceiveWebhook.Outcome.Duplicate })
            : result.Error!.ToResult();
    }

    private static async Task<IResult> ReceiveCallbackAsync(string gateway, HttpRequest request, ReceiveCallback receiveCallback, CancellationToken cancellationToken)
    {
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (request.HasFormContentType)
        {
            foreach (var field in await request.ReadFormAsync(cancellationToken))
            {
                query[field.Key] = field.Value.ToString();
            }
        }
        var result = await receiveCallback.HandleAsync(gateway, query, cancellationToken);
        if (!result.IsSuccess)
        {
            return result.Error!.ToResult();
        }
        var order = result.Value!;
        if (order.ReturnUrl is { } returnUrl)
        {
            var separator = returnUrl.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            return TypedResults.Redirect($"{returnUrl}{separator}order_id={Uri.EscapeDataString(order.Id)}");
        }
        return TypedResults.Content($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Payment received</title></head>
            <body style="font-family:sans-serif;max-width:30rem;margin:4rem auto">
            <h1>Thank you</h1><p>We are confirming your payment for order <code>{WebUtility.HtmlEncode(order.Id)}</code>. You can close this window.</p>
            </body></html>
            """, "text/html; charset=utf-8");
    }
}
