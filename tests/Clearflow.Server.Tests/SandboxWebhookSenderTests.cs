using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Server.Sandbox;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// The sandbox's webhook sender (ADR 24) on a node whose clock stands still, so that no claim can take a webhook while
/// its lease lasts: what a checkout hands over is sent without a claim, and one whose lease has run short by its turn is
/// left to the claim after the lease.
/// </summary>
public abstract class SandboxWebhookSenderTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    [Fact]
    public async Task A_handed_over_webhook_is_sent_under_its_first_lease_and_one_whose_lease_ran_short_under_the_claim_after_it()
    {
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var host = await Environment.StartExtraHostAsync(kind, s => s.AddSingleton<TimeProvider>(clock));
        using var client = host.CreateClient();

        // A checkout: its webhook is stored leased for 30 s of a clock that does not move, so only the hand-over can send
        // it. Clearflow gets it, and the sandbox records it delivered under its first lease.
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        var sent = await DeliveredAsync(host, Api.SandboxOrderId(order));
        Assert.Equal((200, 1), (sent.LastStatusCode, sent.Attempts));

        // Handed over with 5 s of its lease left, less than a send may take (10 s): the hand-over does not send it, and
        // once the lease has ended the sender's claim takes it (a second lease) and sends it. Sent on the hand-over, it
        // would be delivered under its first lease.
        await using var receiver = await FakeMerchantEndpoint.StartAsync();
        var now = clock.GetUtcNow();
        var sandboxOrder = await host.Store.InsertSandboxOrderAsync(new SandboxOrderRecord("sbx_ord_" + Guid.NewGuid().ToString("N"),
            "idem-" + Guid.NewGuid().ToString("N"), "ord_late", 100, "INR", "http://127.0.0.1/return", receiver.Url.ToString(), "created", null, null, now, now), default);
        var late = new SandboxWebhookRecord("sbx_dlv_" + Guid.NewGuid().ToString("N"), "evt_" + Guid.NewGuid().ToString("N"), sandboxOrder.Id, 0,
            "payment.succeeded", Encoding.UTF8.GetBytes("{}"), true, receiver.Url.ToString(), now.AddSeconds(5), 1, null, null);
        Assert.True(await host.Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(sandboxOrder.Id, "succeeded", "pay_late", null, now), [late], default));
        var signal = host.Services.GetRequiredService<SandboxWebhookSignal>();
        signal.Notify([late]);
        await Api.PollAsync(() => Task.FromResult(signal.AnyLeased), waiting => !waiting, _ => "The sender did not take the handed-over webhook in 20 s");
        clock.Advance(TimeSpan.FromSeconds(6));
        var claimed = await DeliveredAsync(host, sandboxOrder.Id);
        Assert.Equal((200, 2), (claimed.LastStatusCode, claimed.Attempts));
        Assert.Single(receiver.Requests);
    }

    /// <summary>The order's one sandbox webhook once it is recorded delivered; fails after 20 s.</summary>
    private static async Task<SandboxWebhookRecord> DeliveredAsync(ClearflowTestHost host, string sandboxOrderId) =>
        (await Api.PollAsync(async () => (await host.Store.ListSandboxWebhooksAsync(sandboxOrderId, default)).SingleOrDefault(), webhook => webhook?.DeliveredAt is not null,
            webhook => $"The sandbox webhook of {sandboxOrderId} was not recorded delivered in 20 s; last seen: {webhook}"))!;
}

[Collection(ServerCollection.Name)]
public sealed class SandboxWebhookSenderOnSqlite(ServerEnvironment environment) : SandboxWebhookSenderTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class SandboxWebhookSenderOnPostgres(ServerEnvironment environment) : SandboxWebhookSenderTests(environment, StoreKind.Postgres);
