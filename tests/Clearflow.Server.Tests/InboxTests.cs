using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Payments;
using Clearflow.Domain.Orders;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>What the inbox processor refuses to act on, whoever signed the event, and how it goes on from an event leased when stored.</summary>
public abstract class InboxTests(ServerEnvironment environment, StoreKind kind)
{
    [Fact]
    public async Task An_event_received_at_another_merchants_webhook_address_moves_nothing()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var attempt = (await host.Store.GetAttemptsAsync(Api.Id(order), default)).Single();
        var (otherMerchantId, _, _) = await DashboardClient.NewMerchantWithUsersAsync(host);

        // As the receiver stores it when the payment was not yet recorded at receipt (so its owner check had nothing to
        // compare): a success, signed for the other merchant's address, about this merchant's payment.
        var id = "evt_" + Guid.NewGuid().ToString("N");
        Assert.True(await host.Store.InsertInboxEventAsync(new InboxEventRecord(id, InboxSource.Webhook, attempt.Gateway, "gw-" + id, attempt.GatewayReference, null,
            "payment.succeeded", ObservationJson.Write(new GatewayObservation(GatewayPaymentStatus.Succeeded, 49_900, "INR")), null, DateTimeOffset.UtcNow, 0, null, null)
        {
            MerchantId = otherMerchantId,
        }, default));
        using (var scope = host.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<ProcessInboxEvent>().HandleAsync(id, default); // or the worker's sweep took it first
        }

        var processed = await host.Store.GetInboxEventAsync(id, default);
        for (var wait = 0; processed!.ProcessedAt is null && wait < 100; wait++)
        {
            await Task.Delay(100); // the sweep's claim is still being processed
            processed = await host.Store.GetInboxEventAsync(id, default);
        }
        Assert.Equal("unmatched: the payment belongs to another merchant than the webhook address's", processed!.Outcome);
        Assert.Equal("created", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());
    }

    /// <summary>
    /// An order, and a success webhook about it stored leased to this node as the receiver stores it (ADR 23), an hour
    /// ahead so that the node's own processor leaves it to the test, whose clock is there.
    /// </summary>
    private async Task<(ClearflowTestHost Host, HttpClient Client, string OrderId, LeasedInboxEvent Leased, FakeTimeProvider Clock)> LeasedWebhookAsync()
    {
        var host = await environment.HostAsync(kind);
        var client = host.CreateClient();
        var orderId = Api.Id(await Api.CreateOrderAsync(client));
        var attempt = (await host.Store.GetAttemptsAsync(orderId, default)).Single();
        var at = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());
        var clock = new FakeTimeProvider(at);
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var readAt = clock.GetTimestamp();
        var stored = await host.Store.InsertLeasedInboxEventAsync(new InboxEventRecord(id, InboxSource.Webhook, attempt.Gateway, "gw-" + id, attempt.GatewayReference,
            orderId, "payment.succeeded", ObservationJson.Write(new GatewayObservation(GatewayPaymentStatus.Succeeded, 49_900, "INR")), null, at, 0, null, null),
            at + ProcessInboxEvent.Lease, default);
        return (host, client, orderId, new LeasedInboxEvent(stored!, readAt), clock);
    }

    private static ProcessInboxEvent ProcessorOn(IServiceScope scope, TimeProvider clock) => ActivatorUtilities.CreateInstance<ProcessInboxEvent>(scope.ServiceProvider,
        ActivatorUtilities.CreateInstance<ApplyGatewayObservation>(scope.ServiceProvider, clock), clock);

    [Fact]
    public async Task An_event_leased_when_stored_is_processed_on_its_own_read_while_fresh_and_taken_again_with_fresh_reads_later()
    {
        // Its turn within the freshness bound: decided on the read stored with it, no second lease.
        var (host, client, orderId, leased, clock) = await LeasedWebhookAsync();
        using (client)
        using (var scope = host.Services.CreateScope())
        {
            clock.Advance(ClaimedReads.Freshness / 2);
            Assert.Equal("succeeded", await ProcessorOn(scope, clock).HandleLeasedAsync(leased, default));
            Assert.Equal(("succeeded", 1), await OutcomeAndAttemptsAsync(host, leased));
            Assert.Equal("succeeded", (await Api.GetOrderAsync(client, orderId)).GetProperty("status").GetString());
        }

        // Its turn came later (it waited in the processor's queue): taken again, with reads made then.
        (host, client, orderId, leased, clock) = await LeasedWebhookAsync();
        using (client)
        using (var scope = host.Services.CreateScope())
        {
            clock.Advance(ClaimedReads.Freshness * 2);
            Assert.Equal("succeeded", await ProcessorOn(scope, clock).HandleLeasedAsync(leased, default));
            Assert.Equal(("succeeded", 2), await OutcomeAndAttemptsAsync(host, leased));
            Assert.Equal("succeeded", (await Api.GetOrderAsync(client, orderId)).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task An_event_leased_when_stored_and_taken_by_another_node_after_its_lease_is_left_to_that_node()
    {
        var (host, client, orderId, leased, clock) = await LeasedWebhookAsync();
        using var _ = client;
        // The receiving node was held up past the lease; another node's sweep took the event meanwhile.
        clock.Advance(ProcessInboxEvent.Lease + TimeSpan.FromSeconds(1));
        Assert.NotNull(await host.Store.TryClaimInboxEventAsync(leased.Claimed.Event.Id, clock.GetUtcNow(), ProcessInboxEvent.Lease, default));

        using var scope = host.Services.CreateScope();
        Assert.Null(await ProcessorOn(scope, clock).HandleLeasedAsync(leased, default));
        Assert.Equal((null, 2), await OutcomeAndAttemptsAsync(host, leased));
        Assert.Equal("created", (await Api.GetOrderAsync(client, orderId)).GetProperty("status").GetString());
    }

    private static async Task<(string? Outcome, int Attempts)> OutcomeAndAttemptsAsync(ClearflowTestHost host, LeasedInboxEvent leased)
    {
        var stored = await host.Store.GetInboxEventAsync(leased.Claimed.Event.Id, default);
        return (stored!.Outcome, stored.Attempts);
    }
}

[Collection(ServerCollection.Name)]
public sealed class InboxOnSqlite(ServerEnvironment environment) : InboxTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class InboxOnPostgres(ServerEnvironment environment) : InboxTests(environment, StoreKind.Postgres);
