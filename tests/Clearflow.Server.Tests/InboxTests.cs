using System.Globalization;
using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Payments;
using Clearflow.Domain.Orders;
using Clearflow.Gateways.Sandbox;
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

        // As a receiver would have stored it when the payment was not yet recorded at receipt (so its owner check had
        // nothing to compare), left for the sweep's claim: a success, signed for the other merchant's address, about this
        // merchant's payment.
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

        // If the sweep took it first, its processing may still be under way.
        var processed = await Api.PollAsync(() => host.Store.GetInboxEventAsync(id, default), e => e!.ProcessedAt is not null,
            e => $"Inbox event {id} not processed in 20 s");
        Assert.Equal("unmatched: the payment belongs to another merchant than the webhook address's", processed!.Outcome);
        Assert.Equal("created", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());
    }

    /// <summary>
    /// An order, and a success webhook about it stored leased to this node as the receiver stores it (ADR 23), an hour
    /// ahead so that the node's own processor leaves it to the test, whose clock is there. The processor's store says
    /// whether a decision was made again on the order read afresh (what a decision on a stale read must do).
    /// </summary>
    private async Task<(ClearflowTestHost Host, HttpClient Client, string OrderId, LeasedInboxEvent Leased, FakeTimeProvider Clock, ProcessInboxEvent Process, Func<bool> ReadAgain)>
        LeasedWebhookAsync()
    {
        var host = await environment.HostAsync(kind);
        var client = host.CreateClient();
        var orderId = Api.Id(await Api.CreateOrderAsync(client));
        var attempt = (await host.Store.GetAttemptsAsync(orderId, default)).Single();
        var at = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());
        var clock = new FakeTimeProvider(at);
        var readAgain = false;
        var store = CallHook<IClearflowStore>.Before(host.Store, nameof(IClearflowStore.GetOrderWithMerchantAsync), () => { readAgain = true; return Task.CompletedTask; });
        var scope = host.Services.CreateScope(); // lives as long as the host: the processor's services are scoped
        var process = ActivatorUtilities.CreateInstance<ProcessInboxEvent>(scope.ServiceProvider, store,
            ActivatorUtilities.CreateInstance<ApplyGatewayObservation>(scope.ServiceProvider, store, clock), clock);
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var leased = await process.StoreLeasedAsync(new InboxEventRecord(id, InboxSource.Webhook, attempt.Gateway, "gw-" + id, attempt.GatewayReference,
            orderId, "payment.succeeded", ObservationJson.Write(new GatewayObservation(GatewayPaymentStatus.Succeeded, 49_900, "INR")), null, at, 0, null, null), default);
        return (host, client, orderId, leased!, clock, process, () => readAgain);
    }

    /// <summary>Another signal moves the order after the webhook's read: 'created' is no longer true when it is decided on.</summary>
    private static Task RacingPendingMoveAsync(ClearflowTestHost host, LeasedInboxEvent leased, FakeTimeProvider clock) =>
        host.Store.TryTransitionAsync(new StatusTransition(leased.Claimed.Order!.Id, OrderStatus.Created, OrderStatus.Pending, "gateway reports pending", null,
            leased.Claimed.Attempt!.Id, "pending", new TimelineEntry(clock.GetUtcNow(), "status.changed", "created -> pending (the racing signal).", null)), default);

    [Fact]
    public async Task An_event_leased_when_stored_is_processed_on_its_own_read_while_fresh_and_taken_again_with_fresh_reads_later()
    {
        // Its turn within the freshness bound: decided on the read stored with it ('created', so the decision is made again
        // on the order read afresh), with no second lease.
        var (host, client, orderId, leased, clock, process, readAgain) = await LeasedWebhookAsync();
        using (client)
        {
            await RacingPendingMoveAsync(host, leased, clock);
            clock.Advance(ClaimedReads.Freshness / 2);
            Assert.Equal("succeeded", await process.HandleLeasedAsync(leased, default));
            Assert.True(readAgain());
            Assert.Equal(("succeeded", 1), await OutcomeAndAttemptsAsync(host, leased));
            Assert.Equal("succeeded", (await Api.GetOrderAsync(client, orderId)).GetProperty("status").GetString());
        }

        // Its turn came later (it waited in the processor's queue): taken again, and decided on the reads made then
        // ('pending'), so never on the stale one.
        (host, client, orderId, leased, clock, process, readAgain) = await LeasedWebhookAsync();
        using (client)
        {
            await RacingPendingMoveAsync(host, leased, clock);
            clock.Advance(ClaimedReads.Freshness * 2);
            Assert.Equal("succeeded", await process.HandleLeasedAsync(leased, default));
            Assert.False(readAgain());
            Assert.Equal(("succeeded", 2), await OutcomeAndAttemptsAsync(host, leased));
            Assert.Equal("succeeded", (await Api.GetOrderAsync(client, orderId)).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task An_event_leased_when_stored_and_taken_by_another_node_after_its_lease_is_left_to_that_node()
    {
        var (host, client, orderId, leased, clock, process, _) = await LeasedWebhookAsync();
        using var _ = client;
        // The receiving node was held up past the lease; another node's sweep took the event meanwhile.
        clock.Advance(ProcessInboxEvent.Lease + TimeSpan.FromSeconds(1));
        Assert.NotNull(await host.Store.TryClaimInboxEventAsync(leased.Claimed.Event.Id, clock.GetUtcNow(), ProcessInboxEvent.Lease, default));

        Assert.Null(await process.HandleLeasedAsync(leased, default));
        Assert.Equal((null, 2), await OutcomeAndAttemptsAsync(host, leased));
        Assert.Equal("created", (await Api.GetOrderAsync(client, orderId)).GetProperty("status").GetString());
    }

    /// <summary>Keeps what a receiver hands the inbox processor, and hands nothing on.</summary>
    private sealed class HandedOver : IInboxSignal
    {
        public List<string> Ids { get; } = [];
        public List<LeasedInboxEvent> Leased { get; } = [];
        public void Notify(string inboxEventId) => Ids.Add(inboxEventId);
        public void NotifyLeased(LeasedInboxEvent leased) => Leased.Add(leased);
    }

    [Fact]
    public async Task A_webhook_is_stored_leased_to_its_receiver_and_handed_over_with_its_reads()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var orderId = Api.Id(await Api.CreateOrderAsync(client));
        var attempt = (await host.Store.GetAttemptsAsync(orderId, default)).Single();
        var sandboxOrder = (await host.Store.GetSandboxOrderAsync(attempt.GatewayReference, default))!;
        using var scope = host.Services.CreateScope();
        var secret = await scope.ServiceProvider.GetRequiredService<SandboxAccount>().WebhookSecretAsync(default);
        var eventId = "sbx_evt_" + Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = Encoding.UTF8.GetBytes(Json.Serialize(new SandboxProtocol.WebhookBody(eventId, "payment.succeeded", timestamp,
            new SandboxProtocol.WebhookData(sandboxOrder.Id, "sbx_pay_" + eventId, sandboxOrder.MerchantReference, "succeeded", sandboxOrder.Amount, sandboxOrder.Currency))));
        var headers = new Dictionary<string, string>
        {
            [SandboxProtocol.EventIdHeader] = eventId,
            [SandboxProtocol.TimestampHeader] = timestamp.ToString(CultureInfo.InvariantCulture),
            [SandboxProtocol.SignatureHeader] = SandboxProtocol.SignWebhook(secret, timestamp, body),
        };
        var handed = new HandedOver();
        var receive = ActivatorUtilities.CreateInstance<ReceiveWebhook>(scope.ServiceProvider, (IInboxSignal)handed);

        Assert.Equal(ReceiveWebhook.Outcome.Stored, (await receive.HandleAsync("sandbox", null, headers, body, default)).Value);
        // Handed over leased (no id for a claim), with the reads a claim makes; stored with its lease, so no sweep takes it.
        Assert.Empty(handed.Ids);
        var leased = Assert.Single(handed.Leased).Claimed;
        Assert.Equal((1, attempt, orderId, attempt.Id), (leased.Event.Attempts, leased.Attempt, leased.Order!.Id, leased.Attempt!.Id));
        Assert.Equal(leased.Order.MerchantId, leased.Merchant!.Id);
        Assert.Equal(1, (await host.Store.GetInboxEventAsync(leased.Event.Id, default))!.Attempts);
        Assert.DoesNotContain(leased.Event.Id, await host.Store.ListDueInboxEventIdsAsync(DateTimeOffset.UtcNow.AddSeconds(30), 1_000, default));

        // The gateway's retry of the same event: a duplicate, nothing stored or handed over.
        Assert.Equal(ReceiveWebhook.Outcome.Duplicate, (await receive.HandleAsync("sandbox", null, headers, body, default)).Value);
        Assert.Single(handed.Leased);
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
