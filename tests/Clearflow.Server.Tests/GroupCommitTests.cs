using System.Data.Common;
using System.Net.Http.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Notifications;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// A round's attempt records that wait together are written together, and one the database refuses costs the others
/// nothing (ADR 20). PostgreSQL only: the records must wait behind a row lock held by another connection, which
/// SQLite's single writer cannot show the same way (the store's contract test covers a refused record on both stores,
/// and the delivery tests the grouping end to end).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GroupCommitOnPostgres(ServerEnvironment environment) : ServerTest(environment)
{
    [Fact]
    public async Task Records_that_waited_together_are_written_and_one_the_database_refuses_fails_alone()
    {
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var database = await Environment.NewDatabaseAsync(StoreKind.Postgres);
        var host = await Environment.StartOnDatabaseAsync(database, s => s.AddSingleton<TimeProvider>(clock), StatusCheckTests.Workers());
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        using (var added = await client.PostAsJsonAsync("/v1/webhook-endpoints", new { url = merchant.Url, event_types = new[] { "order.created" } }))
        {
            added.EnsureSuccessStatusCode();
        }
        await Api.CreateOrderAsync(client);
        await Api.CreateOrderAsync(client);
        using var scope = host.Services.CreateScope();
        var round = await scope.ServiceProvider.GetRequiredService<DispatchOutbox>().HandleAsync(100, default);
        Assert.Equal(2, round.Claimed.Count);
        var (first, second) = (round.Claimed[0], round.Claimed[1]);
        DeliveryResult Delivered(DeliveryRecord delivery, string deliveryId) => new(
            new DeliveryAttemptRecord(deliveryId, delivery.Attempts, clock.GetUtcNow(), 200, 5, "ok", null), delivery.OrderId, "delivered", null,
            new TimelineEntry(clock.GetUtcNow(), "notification.delivered", "delivered"));

        // The first record waits on a row lock held here, so the next two come while it is being written.
        await using var holder = new NpgsqlConnection(database);
        await holder.OpenAsync();
        var held = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM notification_deliveries WHERE id = @id FOR UPDATE", holder, held))
        {
            lockRow.Parameters.AddWithValue("id", first.Id);
            await lockRow.ExecuteScalarAsync();
        }
        var group = new GroupCommit<DeliveryResult>(host.Services.GetRequiredService<IClearflowStore>().RecordDeliveryAttemptsAsync, default);
        var firstWritten = group.WriteAsync(Delivered(first, first.Id));
        var secondWritten = group.WriteAsync(Delivered(second, second.Id));
        var refusedWritten = group.WriteAsync(Delivered(second, null!)); // no delivery id: NOT NULL refuses it
        await Task.Delay(200);
        Assert.False(firstWritten.IsCompleted);
        Assert.False(secondWritten.IsCompleted);
        await held.CommitAsync();

        await firstWritten;
        await secondWritten; // written alone after the combined write of it and the refused one failed
        await Assert.ThrowsAnyAsync<DbException>(() => refusedWritten);
        var store = host.Services.GetRequiredService<IClearflowStore>();
        foreach (var delivery in round.Claimed)
        {
            Assert.Equal("delivered", (await store.GetDeliveryAsync(delivery.Id, default))!.Status);
            Assert.Single(await store.ListDeliveryAttemptsAsync(delivery.Id, default));
        }
    }
}
