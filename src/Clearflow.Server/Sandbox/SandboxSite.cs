using System.Globalization;
using System.Net;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Gateways.Sandbox;
using Clearflow.Server.Http;

namespace Clearflow.Server.Sandbox;

/// <summary>
/// The sandbox gateway's own site, hosted under <c>/sandbox</c>: its API (what the connector calls),
/// the checkout page a customer sees, and the completion endpoint a script can call instead.
/// It plays the gateway, so it shares nothing with Clearflow but the database file and the protocol.
/// </summary>
public static class SandboxSite
{
    public static IEndpointRouteBuilder MapSandboxSite(this IEndpointRouteBuilder routes)
    {
        var sandbox = routes.MapGroup("/sandbox").WithTags("Sandbox gateway").AllowAnonymous();
        // The gateway's server-to-server API stands in for a gateway that runs elsewhere, and Clearflow's own
        // background work calls it: its requests do not hold background work back (ADR 14).
        var api = sandbox.MapGroup("/api").NotWaitedOn();
        api.MapPost("/orders", CreateOrderAsync).WithSummary("Sandbox API: create a gateway order (called by the connector)");
        api.MapGet("/orders/{id}", GetOrderAsync).WithSummary("Sandbox API: order status (called by the connector)");
        api.MapPost("/orders/{id}/refunds", CreateRefundAsync).WithSummary("Sandbox API: refund (refund_id is the idempotency key)");
        api.MapGet("/refunds/{id}", GetRefundAsync).WithSummary("Sandbox API: refund status");
        api.MapGet("/orders/{id}/refunds", ListRefundsAsync).WithSummary("Sandbox API: the refunds of an order");
        api.MapGet("/orders/{id}/webhooks", ListWebhooksAsync).WithSummary("Sandbox API: the webhooks sent for an order and how they were answered");
        sandbox.MapGet("/checkout/{id}", CheckoutPageAsync).WithSummary("The hosted checkout page");
        sandbox.MapPost("/orders/{id}/behaviour", SetBehaviourAsync)
            .WithSummary("Script the next status queries to fail: {\"status_failures\": N, \"status_failure_mode\": \"error\" (503) | \"timeout\" (no answer)}");
        sandbox.MapPost("/checkout/{id}/complete", CompleteAsync)
            .WithSummary("Complete a checkout: JSON {\"outcome\":\"success\"|\"failure\"|\"pending\", \"webhook\"?:\"normal\"|\"duplicate\"|\"out_of_order\"|\"none\"|\"bad_signature\", \"report_amount\"?} or the page's form")
            .DisableAntiforgery();
        return routes;
    }

    private static async Task<bool> IsAuthorizedAsync(HttpRequest request, SandboxAccount account)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && Secrets.FixedTimeEquals(header["Bearer ".Length..], await account.ApiKeyAsync(request.HttpContext.RequestAborted));
    }

    private static IResult Unauthorized() => Problem.Unauthenticated("Send the sandbox API key as a bearer token.", "Sandbox API key required.").ToResult();

    private static async Task<IResult> CreateOrderAsync(HttpRequest request, SandboxAccount account, ISandboxStore store, NewSandboxOrders newOrders, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (!await IsAuthorizedAsync(request, account))
        {
            return Unauthorized();
        }
        var idempotencyKey = request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length is 0 or > 255)
        {
            return Problem.BadRequest("idempotency-key-required", "The sandbox requires an Idempotency-Key header on order creation.").ToResult();
        }
        SandboxProtocol.CreateOrderBody? body;
        try
        {
            body = await request.ReadFromJsonAsync<SandboxProtocol.CreateOrderBody>(Json.Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Problem.BadRequest("malformed-json", ex.Message).ToResult();
        }
        if (body is null || body.Amount <= 0 || string.IsNullOrEmpty(body.Currency) || string.IsNullOrEmpty(body.ReturnUrl) || string.IsNullOrEmpty(body.NotifyUrl))
        {
            return Problem.Validation("body", "amount, currency, merchant_reference, return_url and notify_url are required.").ToResult();
        }
        var now = clock.GetUtcNow();
        var order = await store.InsertSandboxOrderAsync(new SandboxOrderRecord("sbx_ord_" + Secrets.RandomToken(20), idempotencyKey, body.MerchantReference,
            body.Amount, body.Currency, body.ReturnUrl, body.NotifyUrl, "created", null, null, now, now), cancellationToken);
        newOrders.Remember(order);
        return TypedResults.Json(ToBody(order, request), Json.Options, statusCode: 201);
    }

    private static async Task<IResult> GetOrderAsync(string id, HttpRequest request, SandboxAccount account, ISandboxStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await IsAuthorizedAsync(request, account))
        {
            return Unauthorized();
        }
        var query = await store.QuerySandboxStatusAsync(id, clock.GetUtcNow(), cancellationToken);
        if (query is null)
        {
            return new Problem(404, "not-found", "Sandbox order not found.", $"No sandbox order '{id}'.").ToResult();
        }
        switch (query.Failed)
        {
            case "timeout":
                // Hold the request until the caller gives up (its timeout) or a minute passes.
                try
                {
                    await Task.Delay(TimeSpan.FromMinutes(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return TypedResults.Empty; // the caller gave up, as scripted
                }
                return new Problem(504, "sandbox-timeout", "Scripted timeout.", "This status query was scripted to time out.").ToResult();
            case not null:
                return new Problem(503, "sandbox-unavailable", "Scripted outage.", "This status query was scripted to fail.").ToResult();
        }
        return TypedResults.Json(ToBody(query.Order, request), Json.Options);
    }

    private static async Task<IResult> CreateRefundAsync(string id, HttpRequest request, SandboxAccount account, ISandboxStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await IsAuthorizedAsync(request, account))
        {
            return Unauthorized();
        }
        SandboxProtocol.CreateRefundBody? body;
        try
        {
            body = await request.ReadFromJsonAsync<SandboxProtocol.CreateRefundBody>(Json.Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Problem.BadRequest("malformed-json", ex.Message).ToResult();
        }
        if (body is null || string.IsNullOrEmpty(body.RefundId))
        {
            return Problem.Validation("refund_id", "amount and refund_id are required.").ToResult();
        }
        var (refund, error) = await store.CreateSandboxRefundAsync(id, body.RefundId, body.Amount, clock.GetUtcNow(), cancellationToken);
        return refund is null
            ? Problem.BadRequest("refund-refused", $"The sandbox refuses the refund: {error}.").ToResult()
            : TypedResults.Json(new SandboxProtocol.RefundBody(refund.Id, refund.OrderId, refund.Amount, refund.Status), Json.Options, statusCode: 201);
    }

    private static async Task<IResult> GetRefundAsync(string id, HttpRequest request, SandboxAccount account, ISandboxStore store, CancellationToken cancellationToken)
    {
        if (!await IsAuthorizedAsync(request, account))
        {
            return Unauthorized();
        }
        var refund = await store.QuerySandboxRefundAsync(id, cancellationToken);
        return refund is null
            ? new Problem(404, "not-found", "Sandbox refund not found.", $"No sandbox refund '{id}'.").ToResult()
            : TypedResults.Json(new SandboxProtocol.RefundBody(refund.Id, refund.OrderId, refund.Amount, refund.Status), Json.Options);
    }

    private static async Task<IResult> ListRefundsAsync(string id, HttpRequest request, SandboxAccount account, ISandboxStore store, CancellationToken cancellationToken)
    {
        if (!await IsAuthorizedAsync(request, account))
        {
            return Unauthorized();
        }
        var refunds = await store.ListSandboxRefundsAsync(id, cancellationToken);
        return TypedResults.Json(refunds.Select(r => new SandboxProtocol.RefundBody(r.Id, r.OrderId, r.Amount, r.Status)), Json.Options);
    }

    private static async Task<IResult> SetBehaviourAsync(string id, HttpRequest request, ISandboxStore store, CancellationToken cancellationToken)
    {
        int failures;
        string mode;
        string? refund;
        try
        {
            using var json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            var root = json.RootElement;
            failures = root.TryGetProperty("status_failures", out var f) && f.TryGetInt32(out var n) ? n : 0;
            mode = root.TryGetProperty("status_failure_mode", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "error";
            refund = root.TryGetProperty("refund", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        }
        catch (JsonException)
        {
            return Problem.BadRequest("malformed-json", "Send {\"status_failures\": N, \"status_failure_mode\": \"error\"|\"timeout\"}.").ToResult();
        }
        if (failures is < 0 or > 1000 || mode is not ("error" or "timeout"))
        {
            return Problem.Validation("status_failures", "status_failures is 0-1000 and status_failure_mode is 'error' or 'timeout'.").ToResult();
        }
        if (refund is not null)
        {
            var parts = refund.Split(':');
            var valid = refund is "succeeded" or "failed"
                || (parts.Length == 3 && parts[0] == "pending" && int.TryParse(parts[1], out var checks) && checks is >= 1 and <= 1000 && parts[2] is "succeeded" or "failed");
            if (!valid)
            {
                return Problem.Validation("refund", "Must be 'succeeded', 'failed' or 'pending:N:succeeded|failed'.").ToResult();
            }
            if (!await store.SetSandboxRefundBehaviourAsync(id, refund, cancellationToken))
            {
                return new Problem(404, "not-found", "Sandbox order not found.", $"No sandbox order '{id}'.").ToResult();
            }
        }
        return await store.SetSandboxStatusFailuresAsync(id, failures, mode, cancellationToken)
            ? TypedResults.Json(new { status_failures = failures, status_failure_mode = mode, refund }, Json.Options)
            : new Problem(404, "not-found", "Sandbox order not found.", $"No sandbox order '{id}'.").ToResult();
    }

    private static async Task<IResult> ListWebhooksAsync(string id, HttpRequest request, SandboxAccount account, ISandboxStore store, CancellationToken cancellationToken)
    {
        if (!await IsAuthorizedAsync(request, account))
        {
            return Unauthorized();
        }
        var webhooks = await store.ListSandboxWebhooksAsync(id, cancellationToken);
        return TypedResults.Json(webhooks.Select(w => new
        {
            w.DeliveryId, w.EventId, w.EventType, w.Sequence, w.SignCorrectly, w.Attempts, w.LastStatusCode, w.DeliveredAt,
        }), Json.Options);
    }

    private static SandboxProtocol.OrderBody ToBody(SandboxOrderRecord order, HttpRequest request) => new(
        order.Id, order.Status, order.ReportedAmount ?? order.Amount, order.Currency, order.MerchantReference, order.PaymentId,
        $"{request.Scheme}://{request.Host}{request.PathBase}/sandbox/checkout/{order.Id}");

    private static async Task<IResult> CompleteAsync(string id, HttpRequest request, CompleteSandboxCheckout complete, CancellationToken cancellationToken)
    {
        string? outcome, webhook, then = null;
        long? reportAmount = null;
        int? afterChecks = null;
        var isForm = request.HasFormContentType;
        if (isForm)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            outcome = form["outcome"];
            webhook = form["webhook"];
            if (long.TryParse(form["report_amount"], NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                reportAmount = amount;
            }
        }
        else
        {
            try
            {
                using var json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                var root = json.RootElement;
                outcome = root.TryGetProperty("outcome", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
                webhook = root.TryGetProperty("webhook", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;
                if (root.TryGetProperty("report_amount", out var r) && r.ValueKind == JsonValueKind.Number)
                {
                    reportAmount = r.GetInt64();
                }
                then = root.TryGetProperty("then", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (root.TryGetProperty("after_checks", out var a) && a.ValueKind == JsonValueKind.Number)
                {
                    afterChecks = a.GetInt32();
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                return Problem.BadRequest("malformed-json", "Send {\"outcome\":\"success\"|\"failure\"|\"pending\"}.").ToResult();
            }
        }
        var validated = CompleteSandboxCheckout.Validate(outcome, webhook, reportAmount, afterChecks, then);
        if (!validated.IsSuccess)
        {
            return validated.Error!.ToResult();
        }
        var result = await complete.HandleAsync(id, validated.Value!, cancellationToken);
        if (!result.IsSuccess)
        {
            return result.Error!.ToResult();
        }
        return isForm
            ? TypedResults.Redirect(result.Value!.RedirectUrl)
            : TypedResults.Json(new { status = result.Value!.Status, redirect_url = result.Value.RedirectUrl }, Json.Options);
    }

    private static async Task<IResult> CheckoutPageAsync(string id, ISandboxStore store, CancellationToken cancellationToken)
    {
        var order = await store.GetSandboxOrderAsync(id, cancellationToken);
        if (order is null)
        {
            return new Problem(404, "not-found", "Sandbox order not found.", $"No sandbox order '{id}'.").ToResult();
        }
        var major = Domain.Money.MoneyFormat.ToMajorUnits(order.Amount, Domain.Money.Currency.Parse(order.Currency));
        var open = order.Status is "created" or "pending";
        Func<string?, string?> enc = WebUtility.HtmlEncode;
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sandbox checkout</title>
            <style>
              body { font-family: system-ui, sans-serif; background: #f3f4f6; margin: 0; }
              .card { max-width: 26rem; margin: 4rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 2px 12px #0002; }
              .badge { display: inline-block; background: #fde68a; color: #92400e; border-radius: 6px; padding: .1rem .5rem; font-size: .8rem; }
              .amount { font-size: 2rem; font-weight: 600; margin: 1rem 0; }
              button { display: block; width: 100%; padding: .8rem; margin: .5rem 0; border: 0; border-radius: 8px; font-size: 1rem; cursor: pointer; }
              .success { background: #16a34a; color: #fff; } .failure { background: #dc2626; color: #fff; } .pending { background: #e5e7eb; }
              details { margin-top: 1rem; font-size: .9rem; color: #374151; }
            </style></head>
            <body><main class="card">
              <span class="badge">Sandbox gateway · no real money</span>
              <h1>Checkout</h1>
              <div class="amount" data-testid="amount">{{enc(order.Currency)}} {{major}}</div>
              <p>Reference <code>{{enc(order.MerchantReference)}}</code></p>
              {{(open ? $$"""
              <form method="post" action="/sandbox/checkout/{{enc(order.Id)}}/complete">
                <button class="success" name="outcome" value="success">Pay successfully</button>
                <button class="failure" name="outcome" value="failure">Fail the payment</button>
                <button class="pending" name="outcome" value="pending">Leave it pending</button>
                <details><summary>Misbehave (for testing)</summary>
                  <label>Webhook <select name="webhook">
                    <option value="normal">send normally</option><option value="duplicate">send twice</option>
                    <option value="out_of_order">send out of order</option><option value="none">never send</option>
                    <option value="bad_signature">sign wrongly</option></select></label><br>
                  <label>Report amount <input name="report_amount" inputmode="numeric" placeholder="{{order.Amount}}"></label>
                </details>
              </form>
              """ : $"<p>This checkout is already <strong>{enc(order.Status)}</strong>.</p>")}}
            </main></body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }
}
