using System.Net;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>An order's way from creation through the sandbox gateway to its final status, over HTTP.</summary>
public abstract class PaymentFlowTests(ServerEnvironment environment, StoreKind kind)
{
    private Task<ClearflowTestHost> HostAsync() => environment.HostAsync(kind);

    [Fact]
    public async Task A_paid_checkout_reaches_succeeded_through_the_webhook()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        Assert.Equal("created", order.GetProperty("status").GetString());
        Assert.StartsWith(host.BaseAddress.ToString(), order.GetProperty("checkout").GetProperty("checkout_url").GetString());

        await Api.CompleteCheckoutAsync(host, order, "success");
        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");

        Assert.Equal(49_900, final.GetProperty("amount_paid").GetInt64());
        Assert.True(final.GetProperty("is_final").GetBoolean());
        Assert.Equal("succeeded", final.GetProperty("attempts")[0].GetProperty("status").GetString());
        Assert.Equal(["order.created", "gateway.payment_created", "webhook.received", "status.changed"], Api.TimelineKinds(final));
    }

    [Fact]
    public async Task A_failed_checkout_reaches_failed()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "failure");
        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "failed");
        Assert.Equal(0, final.GetProperty("amount_paid").GetInt64());
    }

    [Fact]
    public async Task A_pending_checkout_moves_to_pending_and_then_to_its_final_status()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "pending");
        await Api.WaitForStatusAsync(client, Api.Id(order), "pending");
        await Api.CompleteCheckoutAsync(host, order, "success");
        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        Assert.Equal(2, Api.TimelineKinds(final).Count(k => k == "status.changed"));
    }

    [Fact]
    public async Task A_duplicated_webhook_causes_exactly_one_transition()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "duplicate");

        // Both copies were acknowledged (a duplicate still gets its 200), and only one was processed.
        var webhooks = await Api.WaitForWebhooksAnsweredAsync(host, order, 2, Api.WasAnswered);
        Assert.All(webhooks, w => Assert.Equal(200, w.GetProperty("last_status_code").GetInt32()));
        Assert.Single(webhooks.Select(w => w.GetProperty("event_id").GetString()).Distinct());

        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        await Task.Delay(500); // give a wrongly processed second copy time to show up
        final = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Single(Api.TimelineKinds(final), k => k == "status.changed");
        Assert.Single(Api.TimelineKinds(final), k => k == "webhook.received");
    }

    [Fact]
    public async Task An_out_of_order_pending_webhook_after_success_is_recorded_and_never_moves_the_order_back()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "out_of_order");

        // The sandbox sends the success, then the older pending event, each answered at receipt; the inbox may process
        // them side by side. Two histories are right: the success first and the pending event ignored, or the pending
        // event first (created -> pending) and the success after it. What must never happen is a move back to pending.
        var final = await Api.WaitForOrderAsync(client, Api.Id(order), o =>
            Api.TimelineKinds(o).Count(k => k == "webhook.received") == 2 && o.GetProperty("status").GetString() == "succeeded"
            && (Api.TimelineKinds(o).Contains("event.ignored") || Api.StatusMoves(o).Count == 2), "both webhooks processed");
        var moves = Api.StatusMoves(final);
        if (Api.TimelineKinds(final).Contains("event.ignored"))
        {
            Assert.StartsWith("created -> succeeded", Assert.Single(moves));
        }
        else
        {
            Assert.Equal(2, moves.Count);
            Assert.StartsWith("created -> pending", moves[0]);
            Assert.StartsWith("pending -> succeeded", moves[1]);
        }
        await Task.Delay(300); // a wrongly applied pending event would show up as a third move
        Assert.Equal(moves, Api.StatusMoves(await Api.GetOrderAsync(client, Api.Id(order))));
        Assert.Equal("succeeded", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_wrongly_signed_webhook_is_refused_and_changes_nothing()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "bad_signature");

        var webhooks = await Api.WaitForWebhooksAnsweredAsync(host, order, 1, Api.WasAnswered);
        Assert.Equal(401, webhooks[0].GetProperty("last_status_code").GetInt32());
        var after = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("created", after.GetProperty("status").GetString());
        Assert.DoesNotContain("webhook.received", Api.TimelineKinds(after));
    }

    [Fact]
    public async Task When_the_webhook_is_lost_the_signed_callback_triggers_a_status_fetch_that_settles_the_order()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client, returnUrl: "https://shop.example/thanks");
        var returnUrl = await Api.CompleteCheckoutAsync(host, order, "success", webhook: "none");

        // The customer's browser follows the gateway's redirect back to Clearflow...
        using var browser = host.CreateClient(authenticate: false);
        using var response = await browser.GetAsync(returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"https://shop.example/thanks?order_id={Api.Id(order)}", response.Headers.Location!.ToString());

        // ...which is only a hint: the status comes from asking the gateway.
        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        Assert.Equal(["order.created", "gateway.payment_created", "callback.received", "gateway.status_fetched", "status.changed"], Api.TimelineKinds(final));
    }

    [Fact]
    public async Task A_callback_with_a_forged_signature_is_refused_and_fetches_nothing()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var returnUrl = await Api.CompleteCheckoutAsync(host, order, "failure", webhook: "none");
        var forged = returnUrl.Replace("sandbox_status=failed", "sandbox_status=succeeded", StringComparison.Ordinal);

        using var browser = host.CreateClient(authenticate: false);
        using var response = await browser.GetAsync(forged);
        await Api.ProblemAsync(response, HttpStatusCode.BadRequest, "callback-signature-invalid");
        await Task.Delay(300);
        var after = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("created", after.GetProperty("status").GetString());
        Assert.DoesNotContain("callback.received", Api.TimelineKinds(after));
    }

    [Fact]
    public async Task A_gateway_reporting_a_different_amount_sends_the_order_to_review_instead_of_success()
    {
        var host = await HostAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client, amount: 49_900);
        await Api.CompleteCheckoutAsync(host, order, "success", reportAmount: 100);

        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "requires_review");
        Assert.Contains("gateway reported amount 100", final.GetProperty("status_reason").GetString());
        Assert.Equal(0, final.GetProperty("amount_paid").GetInt64());
    }
}

[Collection(ServerCollection.Name)]
public sealed class PaymentFlowOnSqlite(ServerEnvironment environment) : PaymentFlowTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class PaymentFlowOnPostgres(ServerEnvironment environment) : PaymentFlowTests(environment, StoreKind.Postgres);
