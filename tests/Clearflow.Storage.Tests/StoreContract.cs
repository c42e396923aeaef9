using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;
using Clearflow.Storage;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Storage.Tests;

/// <summary>
/// The storage port's contract. Every adapter must pass all of it; the subclasses below only say
/// which database to run against.
/// </summary>
public abstract class StoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    protected IClearflowStore Store { get; private set; } = null!;

    protected abstract Task<string> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        Store = StorageConfiguration.Create(await CreateDatabaseAsync());
        await Store.MigrateAsync(CancellationToken.None);
    }

    public Task DisposeAsync() => Store is IAsyncDisposable d ? d.DisposeAsync().AsTask() : Task.CompletedTask;

    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<MerchantRecord> NewMerchantAsync()
    {
        var merchant = new MerchantRecord("mer_" + Guid.NewGuid().ToString("N"), "M " + Guid.NewGuid().ToString("N"), "{}", T0);
        await Store.CreateMerchantAsync(merchant, None);
        return merchant;
    }

    private async Task<OrderRecord> NewOrderAsync(MerchantRecord merchant, string? receipt = null)
    {
        var order = new OrderRecord("ord_" + Guid.NewGuid().ToString("N"), merchant.Id, receipt ?? "r-" + Guid.NewGuid().ToString("N")[..10], 49_900, "INR", 0, 0,
            OrderStatus.Created, null, "sandbox", new CustomerRecord("c1", "a@example.com", null, null), "{}", null, "secret", "key-1", T0, T0);
        Assert.True(await Store.InsertOrderAsync(order, new TimelineEntry(T0, "order.created", "created"), None));
        return order;
    }

    [Fact]
    public async Task Migrating_twice_applies_nothing_the_second_time()
    {
        Assert.Empty(await Store.MigrateAsync(None));
    }

    [Fact]
    public async Task Merchants_and_api_keys_round_trip_and_a_key_hash_is_unique()
    {
        var merchant = await NewMerchantAsync();
        Assert.Equal(merchant, await Store.GetMerchantAsync(merchant.Id, None));
        Assert.Equal(merchant, await Store.FindMerchantByNameAsync(merchant.Name, None));
        Assert.Contains(merchant, await Store.ListMerchantsAsync(None));

        var key = new ApiKeyRecord("key_1" + Guid.NewGuid().ToString("N"), merchant.Id, "hash-" + Guid.NewGuid(), "sk_test_abcd", "test", T0, null);
        Assert.True(await Store.AddApiKeyAsync(key, None));
        Assert.False(await Store.AddApiKeyAsync(key with { Id = "key_2" + Guid.NewGuid().ToString("N") }, None));
        Assert.Equal(key, await Store.FindApiKeyByHashAsync(key.KeyHash, None));
        Assert.Null(await Store.FindApiKeyByHashAsync("no-such-hash", None));
    }

    [Fact]
    public async Task An_order_round_trips_and_its_receipt_is_unique_per_merchant()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant, "receipt-1");
        Assert.Equal(order, await Store.GetOrderAsync(order.Id, None));
        Assert.Equal(order, await Store.FindOrderByReceiptAsync(merchant.Id, "receipt-1", None));

        var again = order with { Id = "ord_other" + Guid.NewGuid().ToString("N") };
        Assert.False(await Store.InsertOrderAsync(again, new TimelineEntry(T0, "order.created", "x"), None));
        Assert.Null(await Store.GetOrderAsync(again.Id, None));

        var otherMerchant = await NewMerchantAsync();
        Assert.True(await Store.InsertOrderAsync(again with { MerchantId = otherMerchant.Id }, new TimelineEntry(T0, "order.created", "x"), None));
    }

    [Fact]
    public async Task A_transition_applies_only_from_an_allowed_status_and_writes_its_timeline_entry_with_it()
    {
        var order = await NewOrderAsync(await NewMerchantAsync());
        var attempt = new AttemptRecord("att_" + Guid.NewGuid().ToString("N"), order.Id, "sandbox", "ref-" + Guid.NewGuid(), "created", "{}", T0, T0);
        Assert.True(await Store.AddAttemptAsync(attempt, new TimelineEntry(T0, "gateway.payment_created", "attempt"), T0.AddMinutes(1), None));
        Assert.Equal(attempt, await Store.FindAttemptByReferenceAsync("sandbox", attempt.GatewayReference, None));

        var toSucceeded = new StatusTransition(order.Id, OrderStateMachine.SuccessPredecessors, OrderStatus.Succeeded, "paid", 49_900, attempt.Id, "succeeded",
            new TimelineEntry(T0.AddMinutes(1), "status.changed", "created -> succeeded"));
        Assert.True(await Store.TryTransitionAsync(toSucceeded, None));

        var backwards = new StatusTransition(order.Id, OrderStateMachine.PredecessorsOf(OrderStatus.Pending), OrderStatus.Pending, "late pending", null, null, null,
            new TimelineEntry(T0.AddMinutes(2), "status.changed", "should not be written"));
        Assert.False(await Store.TryTransitionAsync(backwards, None));

        var stored = await Store.GetOrderAsync(order.Id, None);
        Assert.Equal(OrderStatus.Succeeded, stored!.Status);
        Assert.Equal(49_900, stored.AmountPaid);
        Assert.Equal("succeeded", (await Store.GetAttemptsAsync(order.Id, None)).Single().Status);
        var timeline = await Store.GetTimelineAsync(order.Id, None);
        Assert.Equal(["order.created", "gateway.payment_created", "status.changed"], timeline.Select(t => t.Kind));
        Assert.DoesNotContain(timeline, t => t.Message == "should not be written");
    }

    [Fact]
    public async Task Of_many_racing_transitions_to_different_final_statuses_exactly_one_wins()
    {
        var order = await NewOrderAsync(await NewMerchantAsync());
        var targets = Enumerable.Range(0, 24).Select(i => i % 2 == 0 ? OrderStatus.Succeeded : OrderStatus.Failed).ToList();
        var results = await Task.WhenAll(targets.Select(to => Task.Run(() => Store.TryTransitionAsync(new StatusTransition(order.Id,
            to == OrderStatus.Succeeded ? OrderStateMachine.SuccessPredecessors : [OrderStatus.Created, OrderStatus.Pending, OrderStatus.Unknown],
            to, "race", null, null, null, new TimelineEntry(T0, "status.changed", to.ToWire())), None))));

        Assert.Single(results, r => r);
        var winner = targets[Array.IndexOf(results, true)];
        Assert.Equal(winner, (await Store.GetOrderAsync(order.Id, None))!.Status);
        Assert.Single(await Store.GetTimelineAsync(order.Id, None), t => t.Kind == "status.changed");
    }

    [Fact]
    public async Task An_idempotency_key_starts_once_then_replays_refuses_other_bodies_and_reports_in_progress()
    {
        var merchant = await NewMerchantAsync();
        var lockFor = TimeSpan.FromSeconds(60);
        var keep = TimeSpan.FromDays(7);
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h1", T0, lockFor, keep, None));
        Assert.IsType<IdempotencyBegin.InProgress>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h1", T0.AddSeconds(1), lockFor, keep, None));
        Assert.IsType<IdempotencyBegin.Mismatch>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h2", T0.AddSeconds(1), lockFor, keep, None));

        await Store.CompleteIdempotentAsync(merchant.Id, "k", 201, "{\"id\":1}", None);
        var replay = Assert.IsType<IdempotencyBegin.Replay>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h1", T0.AddDays(6), lockFor, keep, None));
        Assert.Equal((201, "{\"id\":1}"), (replay.StatusCode, replay.Body));

        // The same key string of another merchant is another key.
        var other = await NewMerchantAsync();
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(other.Id, "k", "h2", T0, lockFor, keep, None));

        // Past retention the key is forgotten and may start again.
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h2", T0.AddDays(8), lockFor, keep, None));
    }

    [Fact]
    public async Task Concurrent_begins_with_one_key_let_exactly_one_request_start()
    {
        var merchant = await NewMerchantAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
            Store.BeginIdempotentAsync(merchant.Id, "race", "h", T0, TimeSpan.FromMinutes(1), TimeSpan.FromDays(7), None))));
        Assert.Single(results, r => r is IdempotencyBegin.Started);
        Assert.All(results.Where(r => r is not IdempotencyBegin.Started), r => Assert.IsType<IdempotencyBegin.InProgress>(r));
    }

    [Fact]
    public async Task A_claim_left_by_a_crashed_request_is_taken_over_after_its_lock_and_a_released_key_starts_again()
    {
        var merchant = await NewMerchantAsync();
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h", T0, TimeSpan.FromSeconds(60), TimeSpan.FromDays(7), None));
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(merchant.Id, "k", "h", T0.AddSeconds(61), TimeSpan.FromSeconds(60), TimeSpan.FromDays(7), None));

        await Store.ReleaseIdempotentAsync(merchant.Id, "k", None);
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(merchant.Id, "k", "other-body", T0.AddSeconds(62), TimeSpan.FromSeconds(60), TimeSpan.FromDays(7), None));

        Assert.True(await Store.PurgeExpiredIdempotencyKeysAsync(T0.AddDays(30), None) >= 1);
    }

    [Fact]
    public async Task Inbox_events_are_deduplicated_claimed_once_deferred_and_completed()
    {
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var inboxEvent = new InboxEventRecord(id, InboxSource.Webhook, "sandbox", "gw-evt-" + id, "ref-1", null, "payment.succeeded",
            "{\"status\":\"Succeeded\"}", [1, 2, 3, 0, 255], T0, 0, null, null);
        Assert.True(await Store.InsertInboxEventAsync(inboxEvent, None));
        Assert.False(await Store.InsertInboxEventAsync(inboxEvent with { Id = "evt_dup" + Guid.NewGuid().ToString("N") }, None));

        Assert.Contains(id, await Store.ListDueInboxEventIdsAsync(T0, 10, None));
        var claimed = await Store.TryClaimInboxEventAsync(id, T0, TimeSpan.FromSeconds(60), None);
        Assert.NotNull(claimed);
        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, claimed.RawBody);
        Assert.Equal(1, claimed.Attempts);
        Assert.Null(await Store.TryClaimInboxEventAsync(id, T0.AddSeconds(1), TimeSpan.FromSeconds(60), None));
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddSeconds(1), 10, None));

        await Store.DeferInboxEventAsync(id, T0.AddMinutes(5), "gateway down", None);
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddMinutes(4), 10, None));
        Assert.NotNull(await Store.TryClaimInboxEventAsync(id, T0.AddMinutes(5), TimeSpan.FromSeconds(60), None));

        await Store.CompleteInboxEventAsync(id, T0.AddMinutes(6), "succeeded", None);
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddDays(1), 10, None));
        Assert.Null(await Store.TryClaimInboxEventAsync(id, T0.AddDays(1), TimeSpan.FromSeconds(60), None));
        var done = await Store.GetInboxEventAsync(id, None);
        Assert.Equal(("succeeded", 2), (done!.Outcome, done.Attempts));
    }

    [Fact]
    public async Task A_system_setting_keeps_the_first_value_stored()
    {
        var name = "test." + Guid.NewGuid().ToString("N");
        Assert.Equal("first", await Store.GetOrAddSettingAsync(name, "first", None));
        Assert.Equal("first", await Store.GetOrAddSettingAsync(name, "second", None));
    }

    [Fact]
    public async Task A_sandbox_order_is_created_once_per_idempotency_key_and_completed_once()
    {
        var key = "idem-" + Guid.NewGuid().ToString("N");
        var order = new SandboxOrderRecord("sbx_ord_" + Guid.NewGuid().ToString("N"), key, "ord_1", 100, "INR", "http://127.0.0.1/r", "http://127.0.0.1/n", "created", null, null, T0, T0);
        var first = await Store.InsertSandboxOrderAsync(order, None);
        var second = await Store.InsertSandboxOrderAsync(order with { Id = "sbx_ord_other" }, None);
        Assert.Equal(first.Id, second.Id);

        var webhook = new SandboxWebhookRecord("dlv-" + Guid.NewGuid().ToString("N"), "evt-1", first.Id, 0, "payment.succeeded", [1], true, order.NotifyUrl, T0, 0, null, null);
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(first.Id, "succeeded", "pay_1", null, T0), [webhook], None));
        Assert.False(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(first.Id, "failed", "pay_1", null, T0), [], None));
        Assert.Equal("succeeded", (await Store.GetSandboxOrderAsync(first.Id, None))!.Status);

        var due = await Store.ClaimDueSandboxWebhooksAsync(T0, TimeSpan.FromSeconds(30), 10, None);
        Assert.Contains(due, w => w.DeliveryId == webhook.DeliveryId);
        Assert.DoesNotContain(await Store.ClaimDueSandboxWebhooksAsync(T0.AddSeconds(1), TimeSpan.FromSeconds(30), 10, None), w => w.DeliveryId == webhook.DeliveryId);
        await Store.RecordSandboxDeliveryAsync(webhook.DeliveryId, 200, T0.AddSeconds(2), null, None);
        var listed = Assert.Single(await Store.ListSandboxWebhooksAsync(first.Id, None));
        Assert.Equal((200, 1), (listed.LastStatusCode, listed.Attempts));
    }
}

public sealed class SqliteStoreContract : StoreContract
{
    protected override Task<string> CreateDatabaseAsync() =>
        Task.FromResult($"Data Source={Path.Combine(TempDirectory.Create("clearflow-store"), "clearflow.db")}");
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreContract(PostgresServer server) : StoreContract
{
    protected override Task<string> CreateDatabaseAsync() => server.CreateDatabaseAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
