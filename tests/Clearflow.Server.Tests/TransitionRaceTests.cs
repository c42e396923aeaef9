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
    [Fact]
    public async Task A_success_decided_on_created_while_a_pending_signal_won_is_recorded_as_pending_to_succeeded()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var orderId = Api.Id(order);
        var attempt = (await host.Store.GetAttemptsAsync(orderId, default)).Single();

        // The real store, except that right after the success's first read of the order (still 'created'), a
        // pending webhook's transition commits: the race two webhooks processed side by side can produce.
        var racing = CallHook<IClearflowStore>.After(host.Store, nameof(IClearflowStore.GetOrderWithMerchantAsync), () => host.Store.TryTransitionAsync(new StatusTransition(orderId,
            OrderStatus.Created, OrderStatus.Pending, "gateway reports pending", null, attempt.Id, "pending",
            new TimelineEntry(DateTimeOffset.UtcNow, "status.changed", "created -> pending: gateway reports pending (the racing webhook).", null)), default));
        using var scope = host.Services.CreateScope();
        var apply = ActivatorUtilities.CreateInstance<ApplyGatewayObservation>(scope.ServiceProvider, racing);

        var outcome = await apply.HandleAsync(attempt, new GatewayObservation(GatewayPaymentStatus.Succeeded, 49_900, "INR"), "webhook payment.succeeded", default);

        Assert.Equal("succeeded", outcome);
        var final = await Api.GetOrderAsync(client, orderId);
        Assert.Equal("succeeded", final.GetProperty("status").GetString());
        var moves = Api.StatusMoves(final);
        Assert.Equal(2, moves.Count);
        Assert.StartsWith("created -> pending", moves[0]);
        Assert.StartsWith("pending -> succeeded", moves[1]);
    }
}

[Collection(ServerCollection.Name)]
public sealed class TransitionRaceOnSqlite(ServerEnvironment environment) : TransitionRaceTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class TransitionRaceOnPostgres(ServerEnvironment environment) : TransitionRaceTests(environment, StoreKind.Postgres);
