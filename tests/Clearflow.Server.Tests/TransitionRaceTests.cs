using Clearflow.Application.Abstractions;
using Clearflow.Application.Payments;
using Clearflow.Domain.Orders;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// Two signals about one payment decided at the same moment: the one that decided on a status that has moved on
/// since must decide again, so the timeline never says an order left a status it was no longer in.
/// </summary>
public abstract class TransitionRaceTests(ServerEnvironment environment, StoreKind kind)
{
    /// <summary>
    /// A new order with its attempt, and the real store except that right after the first call of <paramref name="after"/> (a
    /// read of the order, still 'created'), a pending webhook's move commits: the race two webhooks
    /// processed side by side can produce.
    /// </summary>
    private async Task<(ClearflowTestHost Host, HttpClient Client, string OrderId, AttemptRecord Attempt, IClearflowStore Racing)> OrderWithRacingPendingWebhookAsync(
        DateTimeOffset at, string after)
    {
        var host = await environment.HostAsync(kind);
        var client = host.CreateClient();
        var orderId = Api.Id(await Api.CreateOrderAsync(client));
        var attempt = (await host.Store.GetAttemptsAsync(orderId, default)).Single();
        var racing = CallHook<IClearflowStore>.After(host.Store, after, () => host.Store.TryTransitionAsync(new StatusTransition(orderId,
            OrderStatus.Created, OrderStatus.Pending, "gateway reports pending", null, attempt.Id, "pending",
            new TimelineEntry(at, "status.changed", "created -> pending: gateway reports pending (the racing webhook).", null)), default));
        return (host, client, orderId, attempt, racing);
    }

    [Fact]
    public async Task A_success_decided_on_created_while_a_pending_signal_won_is_recorded_as_pending_to_succeeded()
    {
        var (host, client, orderId, attempt, racing) = await OrderWithRacingPendingWebhookAsync(DateTimeOffset.UtcNow, nameof(IClearflowStore.GetOrderWithMerchantAsync));
        using var _ = client;
        using var scope = host.Services.CreateScope();
        var apply = ActivatorUtilities.CreateInstance<ApplyGatewayObservation>(scope.ServiceProvider, racing);

        var outcome = await apply.HandleAsync(attempt, new GatewayObservation(GatewayPaymentStatus.Succeeded, 49_900, "INR"), "webhook payment.succeeded", null, default);

        Assert.Equal("succeeded", outcome);
        var final = await Api.GetOrderAsync(client, orderId);
        Assert.Equal("succeeded", final.GetProperty("status").GetString());
        var moves = Api.StatusMoves(final);
        Assert.Equal(2, moves.Count);
        Assert.StartsWith("created -> pending", moves[0]);
        Assert.StartsWith("pending -> succeeded", moves[1]);
    }

    [Fact]
    public async Task A_webhook_that_loses_the_race_records_its_verify_step_once_and_is_completed_with_the_move_that_applies()
    {
        // Received an hour ahead: the node's own inbox worker leaves it to this test, whose clock is there.
        var at = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()); // storage keeps milliseconds
        // The racing move commits right after the claim read the order (still 'created').
        var (host, client, orderId, attempt, racing) = await OrderWithRacingPendingWebhookAsync(at, nameof(IClearflowStore.TryClaimInboxEventAsync));
        using var _ = client;
        var id = "evt_" + Guid.NewGuid().ToString("N");
        Assert.True(await host.Store.InsertInboxEventAsync(new InboxEventRecord(id, InboxSource.Webhook, attempt.Gateway, "gw-" + id, attempt.GatewayReference, null,
            "payment.succeeded", ObservationJson.Write(new GatewayObservation(GatewayPaymentStatus.Succeeded, 49_900, "INR")), null, at, 0, null, null), default));
        using var scope = host.Services.CreateScope();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(at.AddSeconds(1));
        var apply = ActivatorUtilities.CreateInstance<ApplyGatewayObservation>(scope.ServiceProvider, racing, clock);
        var process = ActivatorUtilities.CreateInstance<ProcessInboxEvent>(scope.ServiceProvider, racing, apply, clock);

        Assert.Equal("succeeded", await process.HandleAsync(id, default));

        // The first decision (on 'created', as the claim read it) lost to the racing move; its write still recorded the
        // verify step and the webhook's entry, once. The second decision, on the order read again, moved it and completed
        // the event in the same command.
        var processed = await host.Store.GetInboxEventAsync(id, default);
        Assert.Equal(("succeeded", clock.GetUtcNow()), (processed!.Outcome, processed.ProcessedAt));
        Assert.Equal([("verify", "ok"), ("transition", "succeeded")],
            (await host.Store.ListStepsAsync(orderId, default)).Select(s => (s.Step, s.Outcome)));
        var kinds = (await host.Store.GetTimelineAsync(orderId, default)).Select(e => e.Kind).ToList();
        Assert.Equal(["order.created", "gateway.payment_created", "status.changed", "webhook.received", "status.changed"], kinds);
        Assert.StartsWith("pending -> succeeded", Api.StatusMoves(await Api.GetOrderAsync(client, orderId))[1]);
    }
}

[Collection(ServerCollection.Name)]
public sealed class TransitionRaceOnSqlite(ServerEnvironment environment) : TransitionRaceTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class TransitionRaceOnPostgres(ServerEnvironment environment) : TransitionRaceTests(environment, StoreKind.Postgres);
