using Clearflow.Application.Abstractions;
using Clearflow.Application.Payments;
using Clearflow.Domain.Orders;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>What the inbox processor refuses to act on, whoever signed the event.</summary>
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
}

[Collection(ServerCollection.Name)]
public sealed class InboxOnSqlite(ServerEnvironment environment) : InboxTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class InboxOnPostgres(ServerEnvironment environment) : InboxTests(environment, StoreKind.Postgres);
