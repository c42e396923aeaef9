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
        Assert.True(await Store.CreateMerchantAsync(merchant, None));
        return merchant;
    }

    private async Task<OrderRecord> NewOrderAsync(MerchantRecord merchant, string? receipt = null)
    {
        var order = new OrderRecord("ord_" + Guid.NewGuid().ToString("N"), merchant.Id, receipt ?? "r-" + Guid.NewGuid().ToString("N")[..10], 49_900, "INR", 0, 0,
            OrderStatus.Created, null, "sandbox", new CustomerRecord("c1", "a@example.com", null, null), "{}", null, "secret", "key-1", T0, T0);
        Assert.True(await Store.InsertOrderAsync(order, new TimelineEntry(T0, "order.created", "created"), [], None));
        return order;
    }

    /// <summary>An order, and a webhook about it waiting in the inbox.</summary>
    private async Task<(OrderRecord Order, string EventId)> OrderWithInboxEventAsync()
    {
        var order = await NewOrderAsync(await NewMerchantAsync());
        var id = "evt_" + Guid.NewGuid().ToString("N");
        Assert.True(await Store.InsertInboxEventAsync(new InboxEventRecord(id, InboxSource.Webhook, "sandbox", "gw-" + id, "ref-" + id, order.Id, "payment.succeeded",
            "{}", null, T0, 0, null, null), None));
        return (order, id);
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
        Assert.False(await Store.CreateMerchantAsync(merchant with { Id = "mer_other" + Guid.NewGuid().ToString("N") }, None)); // names are unique
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
        Assert.Equal((order, merchant), await Store.GetOrderWithMerchantAsync(order.Id, None));
        Assert.Null(await Store.GetOrderWithMerchantAsync("ord_missing", None));

        var again = order with { Id = "ord_other" + Guid.NewGuid().ToString("N") };
        var notice = new OutboxMessage("msg_" + Guid.NewGuid().ToString("N"), merchant.Id, again.Id, "order.created", "dedupe-" + Guid.NewGuid(), "{}", T0);
        Assert.False(await Store.InsertOrderAsync(again, new TimelineEntry(T0, "order.created", "x"), [notice], None));
        Assert.Null(await Store.GetOrderAsync(again.Id, None));
        Assert.Empty(await Store.GetTimelineAsync(again.Id, None)); // nothing of the refused order is written
        Assert.Equal(["created"], (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message));

        var otherMerchant = await NewMerchantAsync();
        Assert.True(await Store.InsertOrderAsync(again with { MerchantId = otherMerchant.Id }, new TimelineEntry(T0, "order.created", "x"), [], None));
    }

    [Fact]
    public async Task A_transition_applies_only_from_an_allowed_status_and_writes_its_timeline_entry_with_it()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        var attempt = new AttemptRecord("att_" + Guid.NewGuid().ToString("N"), order.Id, "sandbox", "ref-" + Guid.NewGuid(), "created", "{}", T0, T0);
        Assert.True(await Store.AddAttemptAsync(attempt, new TimelineEntry(T0, "gateway.payment_created", "attempt"), T0.AddMinutes(1), null, None));
        Assert.Equal(attempt, await Store.FindAttemptByReferenceAsync("sandbox", attempt.GatewayReference, None));

        var capture = Domain.Ledger.LedgerRules.Capture(merchant.Id, order.Id, "sandbox", 49_900, "INR");
        var toSucceeded = new StatusTransition(order.Id, OrderStatus.Created, OrderStatus.Succeeded, "paid", 49_900, attempt.Id, "succeeded",
            new TimelineEntry(T0.AddMinutes(1), "status.changed", "created -> succeeded")) { Ledger = capture };
        Assert.True(await Store.TryTransitionAsync(toSucceeded, None));
        // The postings come back in the order they were given (entries are read in insertion order).
        Assert.Equal(capture.Postings.Select(p => (p.Account, p.Amount)),
            (await Store.ListLedgerEntriesAsync(merchant.Id, order.Id, None)).Select(e => (e.Account, e.Amount)));

        // A refused transition writes none of what goes with it.
        var backwards = new StatusTransition(order.Id, OrderStatus.Created, OrderStatus.Pending, "late pending", null, attempt.Id, "pending",
            new TimelineEntry(T0.AddMinutes(2), "status.changed", "should not be written"))
        {
            Notifications = [new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "payment.pending", "refused:" + order.Id, "{}", T0.AddMinutes(2))],
            Ledger = Domain.Ledger.LedgerRules.Refund(merchant.Id, order.Id, "rfd_" + Guid.NewGuid().ToString("N"), "sandbox", 1, "INR"),
            Tasks = [new OrderTaskRecord("tsk_" + Guid.NewGuid().ToString("N"), order.Id, OrderTaskRecord.Fulfil, "pending", null, 0, T0, null, T0, null)],
        };
        Assert.False(await Store.TryTransitionAsync(backwards, None));
        Assert.Empty(await Store.ListOutboxMessagesAsync(merchant.Id, order.Id, None));
        Assert.Equal(capture.Postings.Count, (await Store.ListLedgerEntriesAsync(merchant.Id, order.Id, None)).Count);
        Assert.Empty(await Store.ListOrderTasksAsync(order.Id, None));
        // A move the state machine does not allow is refused before it reaches the database.
        await Assert.ThrowsAsync<ArgumentException>(() => Store.TryTransitionAsync(backwards with { From = OrderStatus.Succeeded }, None));

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
            OrderStatus.Created, to, "race", null, null, null, new TimelineEntry(T0, "status.changed", to.ToWire())), None))));

        Assert.Single(results, r => r);
        var winner = targets[Array.IndexOf(results, true)];
        Assert.Equal(winner, (await Store.GetOrderAsync(order.Id, None))!.Status);
        Assert.Single(await Store.GetTimelineAsync(order.Id, None), t => t.Kind == "status.changed");
    }

    [Fact]
    public async Task A_transition_writes_its_prior_records_either_way_and_completes_its_inbox_event_only_when_it_moves()
    {
        var (order, id) = await OrderWithInboxEventAsync();
        StatusTransition Transition(OrderStatus from, int n) => new(order.Id, from, OrderStatus.Succeeded, "paid", 49_900, null, null,
            new TimelineEntry(T0.AddMinutes(n), "status.changed", $"move {n}"))
        {
            Prior = new PriorRecords(new StepRecord(order.Id, "verify", n, T0, T0, "ok", null), new TimelineEntry(T0.AddMinutes(n), "webhook.received", $"received {n}")),
            Completes = new InboxCompletion(id, T0.AddMinutes(n), "succeeded", new StepRecord(order.Id, "transition", n, T0, T0.AddMinutes(n), "succeeded", null)),
        };

        // Refused (the order is not pending): the prior records are written, the completion is not.
        Assert.False(await Store.TryTransitionAsync(Transition(OrderStatus.Pending, 1), None));
        Assert.Null((await Store.GetInboxEventAsync(id, None))!.ProcessedAt);
        // Moved: the prior records ahead of the move's entry, then the completion.
        Assert.True(await Store.TryTransitionAsync(Transition(OrderStatus.Created, 2), None));

        Assert.Equal(["created", "received 1", "received 2", "move 2"], (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message));
        Assert.Equal([("verify", 1), ("verify", 2), ("transition", 2)], (await Store.ListStepsAsync(order.Id, None)).Select(s => (s.Step, s.Attempt)));
        var processed = (await Store.GetInboxEventAsync(id, None))!;
        Assert.Equal(("succeeded", T0.AddMinutes(2)), (processed.Outcome, processed.ProcessedAt));
    }

    [Fact]
    public async Task An_ignored_observation_writes_its_prior_records_its_entry_and_its_completion_in_that_order()
    {
        var (order, id) = await OrderWithInboxEventAsync();

        await Store.RecordIgnoredAsync(order.Id,
            new PriorRecords(new StepRecord(order.Id, "verify", 1, T0, T0, "ok", null), new TimelineEntry(T0, "webhook.received", "received")),
            new TimelineEntry(T0.AddSeconds(1), "event.ignored", "ignored"),
            new InboxCompletion(id, T0.AddSeconds(1), "ignored: duplicate", new StepRecord(order.Id, "transition", 1, T0, T0.AddSeconds(1), "ignored: duplicate", null)), None);

        Assert.Equal(["created", "received", "ignored"], (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message));
        Assert.Equal([("verify", "ok"), ("transition", "ignored: duplicate")], (await Store.ListStepsAsync(order.Id, None)).Select(s => (s.Step, s.Outcome)));
        var processed = (await Store.GetInboxEventAsync(id, None))!;
        Assert.Equal(("ignored: duplicate", T0.AddSeconds(1)), (processed.Outcome, processed.ProcessedAt));
    }

    [Fact]
    public async Task An_idempotency_key_starts_once_then_replays_refuses_other_bodies_and_reports_in_progress()
    {
        var merchant = await NewMerchantAsync();
        var lockFor = TimeSpan.FromSeconds(60);
        var keep = TimeSpan.FromDays(7);
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h1", T0, lockFor, keep), None));
        Assert.IsType<IdempotencyBegin.InProgress>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h1", T0.AddSeconds(1), lockFor, keep), None));
        Assert.IsType<IdempotencyBegin.Mismatch>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h2", T0.AddSeconds(1), lockFor, keep), None));

        await Store.CompleteIdempotentAsync(merchant.Id, "k", 201, "{\"id\":1}", None);
        var replay = Assert.IsType<IdempotencyBegin.Replay>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h1", T0.AddDays(6), lockFor, keep), None));
        Assert.Equal((201, "{\"id\":1}"), (replay.StatusCode, replay.Body));

        // The same key string of another merchant is another key.
        var other = await NewMerchantAsync();
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(other.Id, "k", "h2", T0, lockFor, keep), None));

        // Past retention the key is forgotten and may start again.
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h2", T0.AddDays(8), lockFor, keep), None));
    }

    [Fact]
    public async Task An_order_claiming_its_key_is_written_only_with_a_new_key_and_a_free_receipt_and_then_holds_the_key()
    {
        var merchant = await NewMerchantAsync();
        var lockFor = TimeSpan.FromSeconds(60);
        var keep = TimeSpan.FromDays(7);
        OrderRecord Order(string receipt) => new("ord_" + Guid.NewGuid().ToString("N"), merchant.Id, receipt, 49_900, "INR", 0, 0,
            OrderStatus.Created, null, "sandbox", new CustomerRecord("c1", "a@example.com", null, null), "{}", null, "secret", "key-1", T0, T0);
        OutboxMessage Notice(OrderRecord order) => new("msg_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "order.created", "dedupe-" + Guid.NewGuid(), "{}", T0);
        IdempotencyClaim Claim(string key) => new(merchant.Id, key, "h", T0, lockFor, keep);

        // A new key and a free receipt: both written; the key is held (in progress) for the lock's length, then taken over.
        var first = Order("r-first");
        Assert.True(await Store.InsertOrderClaimingKeyAsync(first, new TimelineEntry(T0, "order.created", "first"), [Notice(first)], Claim("k1"), None));
        Assert.Equal(first, await Store.GetOrderAsync(first.Id, None));
        Assert.IsType<IdempotencyBegin.InProgress>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k1", "h", T0.AddSeconds(59), lockFor, keep), None));
        Assert.IsType<IdempotencyBegin.Mismatch>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k1", "other", T0.AddSeconds(1), lockFor, keep), None));
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k1", "h", T0.AddSeconds(61), lockFor, keep), None));

        // The key exists: nothing of the order is written.
        var sameKey = Order("r-second");
        Assert.False(await Store.InsertOrderClaimingKeyAsync(sameKey, new TimelineEntry(T0, "order.created", "same key"), [Notice(sameKey)], Claim("k1"), None));
        Assert.Null(await Store.GetOrderAsync(sameKey.Id, None));
        Assert.Empty(await Store.GetTimelineAsync(sameKey.Id, None));

        // The receipt is taken: the new key is not claimed either, so the careful path starts it afresh.
        var sameReceipt = Order("r-first");
        Assert.False(await Store.InsertOrderClaimingKeyAsync(sameReceipt, new TimelineEntry(T0, "order.created", "same receipt"), [], Claim("k2"), None));
        Assert.Null(await Store.GetOrderAsync(sameReceipt.Id, None));
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k2", "h", T0.AddSeconds(1), lockFor, keep), None));
        Assert.Equal(["first"], (await Store.GetTimelineAsync(first.Id, None)).Select(e => e.Message));
    }

    [Fact]
    public async Task An_attempt_stores_its_request_reply_with_it_and_a_repeated_gateway_reference_writes_nothing()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h", T0, TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));
        var attempt = new AttemptRecord("att_" + Guid.NewGuid().ToString("N"), order.Id, "sandbox", "ref-" + Guid.NewGuid(), "created", "{}", T0, T0);
        Assert.True(await Store.AddAttemptAsync(attempt, new TimelineEntry(T0, "gateway.payment_created", "attempt"), T0.AddMinutes(1),
            new IdempotentReply(merchant.Id, "k", 201, "{\"id\":\"first\"}"), None));
        var replay = Assert.IsType<IdempotencyBegin.Replay>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h", T0.AddSeconds(1), TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));
        Assert.Equal((201, "{\"id\":\"first\"}"), (replay.StatusCode, replay.Body));

        // The same gateway payment again: refused whole; neither its timeline entry nor its reply is written.
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k2", "h", T0, TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));
        var again = attempt with { Id = "att_" + Guid.NewGuid().ToString("N") };
        Assert.False(await Store.AddAttemptAsync(again, new TimelineEntry(T0, "gateway.payment_created", "again"), T0.AddMinutes(1),
            new IdempotentReply(merchant.Id, "k2", 201, "{}"), None));
        Assert.Equal(["created", "attempt"], (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message));
        Assert.IsType<IdempotencyBegin.InProgress>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k2", "h", T0.AddSeconds(1), TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));
        Assert.Single(await Store.GetAttemptsAsync(order.Id, None));
    }

    [Fact]
    public async Task Concurrent_begins_with_one_key_let_exactly_one_request_start()
    {
        var merchant = await NewMerchantAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
            Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "race", "h", T0, TimeSpan.FromMinutes(1), TimeSpan.FromDays(7)), None))));
        Assert.Single(results, r => r is IdempotencyBegin.Started);
        Assert.All(results.Where(r => r is not IdempotencyBegin.Started), r => Assert.IsType<IdempotencyBegin.InProgress>(r));
    }

    [Fact]
    public async Task A_claim_left_by_a_crashed_request_is_taken_over_after_its_lock_and_a_released_key_starts_again()
    {
        var merchant = await NewMerchantAsync();
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h", T0, TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "h", T0.AddSeconds(61), TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));

        await Store.ReleaseIdempotentAsync(merchant.Id, "k", None);
        Assert.IsType<IdempotencyBegin.Started>(await Store.BeginIdempotentAsync(new IdempotencyClaim(merchant.Id, "k", "other-body", T0.AddSeconds(62), TimeSpan.FromSeconds(60), TimeSpan.FromDays(7)), None));

        Assert.True(await Store.PurgeExpiredIdempotencyKeysAsync(T0.AddDays(30), None) >= 1);
    }

    [Fact]
    public async Task Inbox_events_are_deduplicated_claimed_once_deferred_and_completed()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var inboxEvent = new InboxEventRecord(id, InboxSource.Webhook, "sandbox", "gw-evt-" + id, "ref-" + id, null, "payment.succeeded",
            "{\"status\":\"Succeeded\"}", [1, 2, 3, 0, 255], T0, 0, null, null) { MerchantId = order.MerchantId };
        Assert.True(await Store.InsertInboxEventAsync(inboxEvent, None));
        Assert.False(await Store.InsertInboxEventAsync(inboxEvent with { Id = "evt_dup" + Guid.NewGuid().ToString("N") }, None));

        Assert.Contains(id, await Store.ListDueInboxEventIdsAsync(T0, 10, None));
        var (claimed, attempt, claimedOrder, claimedMerchant) = (await Store.TryClaimInboxEventAsync(id, T0, TimeSpan.FromSeconds(60), None))!;
        Assert.Equal((null, null, null), (attempt, claimedOrder, claimedMerchant)); // no payment has the event's reference yet
        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, claimed.RawBody);
        Assert.Equal(order.MerchantId, claimed.MerchantId);
        Assert.Equal(1, claimed.Attempts);
        Assert.Null(await Store.TryClaimInboxEventAsync(id, T0.AddSeconds(1), TimeSpan.FromSeconds(60), None));
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddSeconds(1), 10, None));

        await Store.DeferInboxEventAsync(id, T0.AddMinutes(5), "gateway down", None);
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddMinutes(4), 10, None));
        // The payment was recorded meanwhile: the claim comes with its attempt, its order as stored now, and the order's merchant.
        var recorded = new AttemptRecord("att_" + Guid.NewGuid().ToString("N"), order.Id, "sandbox", inboxEvent.GatewayReference, "created", "{}", T0, T0);
        Assert.True(await Store.AddAttemptAsync(recorded, new TimelineEntry(T0, "gateway.payment_created", "attempt"), T0.AddMinutes(1), null, None));
        var reclaimed = (await Store.TryClaimInboxEventAsync(id, T0.AddMinutes(5), TimeSpan.FromSeconds(60), None))!;
        Assert.Equal((recorded, await Store.GetOrderAsync(order.Id, None), merchant), (reclaimed.Attempt, reclaimed.Order, reclaimed.Merchant));

        await Store.CompleteInboxEventAsync(id, T0.AddMinutes(6), "succeeded", new StepRecord(order.Id, "transition", 2, T0.AddMinutes(5), T0.AddMinutes(6), "succeeded", null), None);
        Assert.Equal(("transition", "succeeded"), (await Store.ListStepsAsync(order.Id, None)).Select(s => (s.Step, s.Outcome)).Single());
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddDays(1), 10, None));
        Assert.Null(await Store.TryClaimInboxEventAsync(id, T0.AddDays(1), TimeSpan.FromSeconds(60), None));
        var done = await Store.GetInboxEventAsync(id, None);
        Assert.Equal(("succeeded", 2), (done!.Outcome, done.Attempts));
    }

    [Fact]
    public async Task An_event_stored_leased_comes_with_its_reads_and_is_taken_again_only_by_its_holder_or_after_the_lease()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        var recorded = new AttemptRecord("att_" + Guid.NewGuid().ToString("N"), order.Id, "sandbox", "ref-" + Guid.NewGuid().ToString("N"), "created", "{}", T0, T0);
        Assert.True(await Store.AddAttemptAsync(recorded, new TimelineEntry(T0, "gateway.payment_created", "attempt"), T0.AddMinutes(1), null, None));
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var inboxEvent = new InboxEventRecord(id, InboxSource.Webhook, "sandbox", "gw-evt-" + id, recorded.GatewayReference, order.Id, "payment.succeeded",
            "{\"status\":\"Succeeded\"}", [1, 0, 255], T0.AddTicks(1234), 0, null, null) { MerchantId = merchant.Id };

        // Stored as its first attempt, with what a claim reads, as stored (the receipt time at millisecond precision); the raw
        // body is stored, not handed back.
        var leased = (await Store.InsertLeasedInboxEventAsync(inboxEvent, T0.AddSeconds(60), None))!;
        Assert.Equal(inboxEvent with { Attempts = 1, ReceivedAt = T0, RawBody = null }, leased.Event);
        var stored = (await Store.GetInboxEventAsync(id, None))!;
        Assert.Equal(leased.Event with { RawBody = null }, stored with { RawBody = null });
        Assert.Equal(new byte[] { 1, 0, 255 }, stored.RawBody);
        Assert.Equal((recorded, await Store.GetOrderAsync(order.Id, None), merchant), (leased.Attempt, leased.Order, leased.Merchant));
        // A duplicate (same gateway and dedupe key) is neither stored nor read.
        Assert.Null(await Store.InsertLeasedInboxEventAsync(inboxEvent with { Id = "evt_dup" + Guid.NewGuid().ToString("N") }, T0.AddSeconds(60), None));

        // Leased: not due, nobody else takes it while the lease lasts.
        Assert.DoesNotContain(id, await Store.ListDueInboxEventIdsAsync(T0.AddSeconds(59), 10, None));
        Assert.Null(await Store.TryClaimInboxEventAsync(id, T0.AddSeconds(59), TimeSpan.FromSeconds(60), None));
        Assert.Null(await Store.TryReclaimInboxEventAsync(id, heldAttempts: 2, T0.AddSeconds(2), TimeSpan.FromSeconds(60), None));
        // Its holder takes it again with fresh reads, once: that counts another attempt.
        var reclaimed = (await Store.TryReclaimInboxEventAsync(id, heldAttempts: 1, T0.AddSeconds(2), TimeSpan.FromSeconds(60), None))!;
        Assert.Equal((2, recorded, merchant), (reclaimed.Event.Attempts, reclaimed.Attempt, reclaimed.Merchant));
        Assert.Null(await Store.TryReclaimInboxEventAsync(id, heldAttempts: 1, T0.AddSeconds(3), TimeSpan.FromSeconds(60), None));

        // After the lease, the sweep's claim takes it; then its first holder cannot.
        Assert.Contains(id, await Store.ListDueInboxEventIdsAsync(T0.AddSeconds(62), 10, None));
        Assert.Equal(3, (await Store.TryClaimInboxEventAsync(id, T0.AddSeconds(62), TimeSpan.FromSeconds(60), None))!.Event.Attempts);
        Assert.Null(await Store.TryReclaimInboxEventAsync(id, heldAttempts: 2, T0.AddSeconds(63), TimeSpan.FromSeconds(60), None));
        await Store.CompleteInboxEventAsync(id, T0.AddSeconds(64), "succeeded", null, None);
        Assert.Null(await Store.TryReclaimInboxEventAsync(id, heldAttempts: 3, T0.AddSeconds(65), TimeSpan.FromSeconds(60), None));
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

        SandboxWebhookRecord Webhook(int sequence, string eventType) =>
            new("dlv-" + Guid.NewGuid().ToString("N"), "evt-" + Guid.NewGuid().ToString("N"), first.Id, sequence, eventType, [1], true, order.NotifyUrl, T0, 0, null, null);
        var (webhook, duplicate) = (Webhook(0, "payment.succeeded"), Webhook(1, "payment.succeeded"));
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(first.Id, "succeeded", "pay_1", null, T0), [webhook, duplicate], None));
        // Completed once: a second completion changes nothing and queues none of its webhooks.
        Assert.False(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(first.Id, "failed", "pay_1", null, T0), [Webhook(2, "payment.failed")], None));
        Assert.Equal("succeeded", (await Store.GetSandboxOrderAsync(first.Id, None))!.Status);
        Assert.Equal(new[] { webhook.DeliveryId, duplicate.DeliveryId }.Order(), (await Store.ListSandboxWebhooksAsync(first.Id, None)).Select(w => w.DeliveryId).Order());

        // Racing senders take each webhook once, counting the attempt; a payment's events come back in their sequence.
        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Store.ClaimDueSandboxWebhooksAsync(T0, TimeSpan.FromSeconds(30), 10, None))));
        var due = claims.SelectMany(c => c).Where(w => w.OrderId == first.Id).ToList();
        Assert.Equal([(webhook.DeliveryId, 1), (duplicate.DeliveryId, 1)], due.Select(w => (w.DeliveryId, w.Attempts)).OrderBy(w => w.DeliveryId == duplicate.DeliveryId));
        Assert.All(claims, c => Assert.Equal(c.Where(w => w.OrderId == first.Id).Select(w => w.Sequence).Order(), c.Where(w => w.OrderId == first.Id).Select(w => w.Sequence)));
        Assert.DoesNotContain(await Store.ClaimDueSandboxWebhooksAsync(T0.AddSeconds(1), TimeSpan.FromSeconds(30), 10, None), w => w.DeliveryId == webhook.DeliveryId);
        // Sends recorded together: one delivered, one to be tried again.
        await Store.RecordSandboxDeliveriesAsync([new SandboxDelivery(webhook.DeliveryId, 1, 200, T0.AddSeconds(2), null),
            new SandboxDelivery(duplicate.DeliveryId, 1, 503, null, T0.AddSeconds(9))], None);
        var listed = Assert.Single(await Store.ListSandboxWebhooksAsync(first.Id, None), w => w.DeliveryId == webhook.DeliveryId);
        Assert.Equal((200, 1), (listed.LastStatusCode, listed.Attempts));
        var retried = Assert.Single(await Store.ListSandboxWebhooksAsync(first.Id, None), w => w.DeliveryId == duplicate.DeliveryId);
        Assert.Equal(((int?)503, (DateTimeOffset?)null, T0.AddSeconds(9)), (retried.LastStatusCode, retried.DeliveredAt, retried.AvailableAt));
        await Store.RecordSandboxDeliveriesAsync([], None);

        // A checkout's webhooks stored leased to its node's sender: as given, and claimed by no one until the lease ends.
        var other = await Store.InsertSandboxOrderAsync(order with { Id = "sbx_ord_" + Guid.NewGuid().ToString("N"), IdempotencyKey = "idem-" + Guid.NewGuid().ToString("N") }, None);
        var leased = new SandboxWebhookRecord("dlv-" + Guid.NewGuid().ToString("N"), "evt-" + Guid.NewGuid().ToString("N"), other.Id, 0, "payment.succeeded", [2], true,
            order.NotifyUrl, T0.AddSeconds(30), 1, null, null);
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(other.Id, "succeeded", "pay_2", null, T0), [leased], None));
        Assert.Equal((T0.AddSeconds(30), 1), Assert.Single(await Store.ListSandboxWebhooksAsync(other.Id, None)) is var stored ? (stored.AvailableAt, stored.Attempts) : default);
        Assert.DoesNotContain(await Store.ClaimDueSandboxWebhooksAsync(T0.AddSeconds(29), TimeSpan.FromSeconds(30), 100, None), w => w.DeliveryId == leased.DeliveryId);
        Assert.Equal(2, Assert.Single(await Store.ClaimDueSandboxWebhooksAsync(T0.AddSeconds(30), TimeSpan.FromSeconds(30), 100, None), w => w.DeliveryId == leased.DeliveryId).Attempts);
        // The next lease's send delivered it; the first lease's late failure changes nothing.
        await Store.RecordSandboxDeliveriesAsync([new SandboxDelivery(leased.DeliveryId, 2, 200, T0.AddSeconds(31), null)], None);
        await Store.RecordSandboxDeliveriesAsync([new SandboxDelivery(leased.DeliveryId, 1, 503, null, T0.AddSeconds(40))], None);
        Assert.Equal((200, T0.AddSeconds(31)), Assert.Single(await Store.ListSandboxWebhooksAsync(other.Id, None)) is var late ? (late.LastStatusCode, late.DeliveredAt) : default);

        // A completion decided on the order as created applies only while it is: not once it is pending.
        var third = await Store.InsertSandboxOrderAsync(order with { Id = "sbx_ord_" + Guid.NewGuid().ToString("N"), IdempotencyKey = "idem-" + Guid.NewGuid().ToString("N") }, None);
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(third.Id, "pending", "pay_3", null, T0), [], None));
        Assert.False(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(third.Id, "succeeded", "pay_other", null, T0) { OnlyIfNew = true }, [Webhook(0, "payment.succeeded") with { OrderId = third.Id }], None));
        Assert.Empty(await Store.ListSandboxWebhooksAsync(third.Id, None));
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(third.Id, "succeeded", "pay_other", null, T0), [], None));
        Assert.Equal(("succeeded", "pay_3"), await Store.GetSandboxOrderAsync(third.Id, None) is { } completed ? (completed.Status, completed.PaymentId) : default);
        var fourth = await Store.InsertSandboxOrderAsync(order with { Id = "sbx_ord_" + Guid.NewGuid().ToString("N"), IdempotencyKey = "idem-" + Guid.NewGuid().ToString("N") }, None);
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(fourth.Id, "succeeded", "pay_4", null, T0) { OnlyIfNew = true }, [], None));
    }

    private async Task<OrderRecord> DueOrderAsync(MerchantRecord merchant, DateTimeOffset due)
    {
        var order = await NewOrderAsync(merchant);
        var attempt = new AttemptRecord("att_" + Guid.NewGuid().ToString("N"), order.Id, "sandbox", "ref-" + Guid.NewGuid(), "created", "{}", T0, T0);
        Assert.True(await Store.AddAttemptAsync(attempt, new TimelineEntry(T0, "gateway.payment_created", "attempt"), due, null, None));
        return order;
    }

    [Fact]
    public async Task A_due_check_is_claimed_once_even_by_many_concurrent_claimers()
    {
        var merchant = await NewMerchantAsync();
        var due = new List<OrderRecord>();
        for (var i = 0; i < 40; i++)
        {
            due.Add(await DueOrderAsync(merchant, T0.AddMinutes(1)));
        }
        var later = await DueOrderAsync(merchant, T0.AddHours(1));

        var now = T0.AddMinutes(2);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.ClaimDueStatusChecksAsync(now, now.AddMinutes(2), 7, None))));
        var more = await Store.ClaimDueStatusChecksAsync(now, now.AddMinutes(2), 100, None);
        var claimed = claims.SelectMany(c => c).Concat(more).Where(id => due.Any(o => o.Id == id) || id == later.Id).ToList();

        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        Assert.Equal(due.Select(o => o.Id).Order(), claimed.Order());
        var reclaimed = await Store.ClaimDueStatusChecksAsync(now.AddMinutes(1), now.AddMinutes(3), 100, None);
        Assert.DoesNotContain(reclaimed, id => claimed.Contains(id));
        Assert.Contains(due[0].Id, await Store.ClaimDueStatusChecksAsync(now.AddMinutes(2), now.AddMinutes(4), 100, None)); // the lease ran out
    }

    [Fact]
    public async Task A_recorded_check_counts_answers_and_failures_and_a_final_transition_stops_checks()
    {
        var merchant = await NewMerchantAsync();
        var order = await DueOrderAsync(merchant, T0.AddMinutes(1));
        Assert.Equal(T0.AddMinutes(1), (await Store.GetOrderAsync(order.Id, None))!.NextCheckAt);
        Assert.Equal(T0, (await Store.GetOrderAsync(order.Id, None))!.ChecksStartedAt);

        await Store.RecordStatusCheckAsync(new StatusCheckRecord(order.Id, T0.AddMinutes(1), false, "unreachable: 503", T0.AddMinutes(2)), None);
        await Store.RecordStatusCheckAsync(new StatusCheckRecord(order.Id, T0.AddMinutes(2), false, "unreachable: 503", T0.AddMinutes(3)), None);
        var failing = (await Store.GetOrderAsync(order.Id, None))!;
        Assert.Equal((0, 2, "unreachable: 503", T0.AddMinutes(3)), (failing.CheckCount, failing.CheckFailures, failing.LastGatewayStatus, failing.NextCheckAt));

        await Store.RecordStatusCheckAsync(new StatusCheckRecord(order.Id, T0.AddMinutes(3), true, "pending", T0.AddMinutes(8)), None);
        var answered = (await Store.GetOrderAsync(order.Id, None))!;
        Assert.Equal((1, 0, "pending", T0.AddMinutes(3)), (answered.CheckCount, answered.CheckFailures, answered.LastGatewayStatus, answered.LastCheckedAt));

        Assert.True(await Store.TryTransitionAsync(new StatusTransition(order.Id, OrderStatus.Created,
            OrderStatus.Succeeded, "paid", 49_900, null, null, new TimelineEntry(T0.AddMinutes(4), "status.changed", "paid")), None));
        await Store.RecordStatusCheckAsync(new StatusCheckRecord(order.Id, T0.AddMinutes(4), true, "succeeded", T0.AddMinutes(19)), None);
        Assert.Null((await Store.GetOrderAsync(order.Id, None))!.NextCheckAt);
        Assert.DoesNotContain(order.Id, await Store.ClaimDueStatusChecksAsync(T0.AddDays(9), T0.AddDays(10), 100, None));
    }

    [Fact]
    public async Task A_late_success_is_flagged_for_compensation_and_its_notice_is_queued_once_with_it()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        Assert.True(await Store.TryTransitionAsync(new StatusTransition(order.Id, OrderStatus.Created, OrderStatus.Expired, "not paid", null, null, null,
            new TimelineEntry(T0, "status.changed", "expired")), None));
        var notice = new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "operator.test", "late:" + order.Id, "{}", T0.AddHours(1));
        Assert.True(await Store.TryTransitionAsync(new StatusTransition(order.Id, OrderStatus.Expired, OrderStatus.Succeeded, "late", 49_900, null, null,
            new TimelineEntry(T0.AddHours(1), "status.late_success", "late")) { RequiresCompensation = true, Notifications = [notice] }, None));
        Assert.Equal(T0.AddHours(1), (await Store.GetOrderAsync(order.Id, None))!.CompensationRequiredAt);
        Assert.False(await Store.AddOutboxMessageAsync(notice with { Id = "obx_other" + Guid.NewGuid().ToString("N") }, None));
        Assert.Single(await Store.ListOutboxMessagesAsync(merchant.Id, order.Id, None));
    }

    [Fact]
    public async Task Open_orders_and_totals_of_a_day_are_read_by_creation_time()
    {
        var merchant = await NewMerchantAsync();
        var open = await NewOrderAsync(merchant);
        var paid = await NewOrderAsync(merchant);
        Assert.True(await Store.TryTransitionAsync(new StatusTransition(paid.Id, OrderStatus.Created, OrderStatus.Succeeded, "paid", 49_900, null, null,
            new TimelineEntry(T0, "status.changed", "paid")), None));

        Assert.Equal([open.Id], (await Store.ListOpenOrdersCreatedBetweenAsync(merchant.Id, T0, T0.AddDays(1), None)).Select(o => o.Id));
        Assert.Empty(await Store.ListOpenOrdersCreatedBetweenAsync(merchant.Id, T0.AddDays(1), T0.AddDays(2), None));
        var totals = await Store.TotalsByStatusAsync(merchant.Id, T0, T0.AddDays(1), None);
        Assert.Equal([new StatusTotal("created", "INR", 1, 49_900), new StatusTotal("succeeded", "INR", 1, 49_900)], totals);
    }

    [Fact]
    public async Task A_daily_run_starts_once_is_taken_over_only_when_stale_and_keeps_its_report()
    {
        var merchant = await NewMerchantAsync();
        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.TryStartDailyRunAsync(merchant.Id, "2026-11-24", T0, TimeSpan.FromMinutes(15), None))));
        Assert.Single(runs, r => r);
        Assert.False(await Store.TryStartDailyRunAsync(merchant.Id, "2026-11-24", T0.AddMinutes(10), TimeSpan.FromMinutes(15), None));
        Assert.True(await Store.TryStartDailyRunAsync(merchant.Id, "2026-11-24", T0.AddMinutes(20), TimeSpan.FromMinutes(15), None)); // the first died

        var notice = new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, null, "operator.daily_report", "report:" + merchant.Id, "{}", T0);
        await Store.CompleteDailyRunAsync(merchant.Id, "2026-11-24", T0.AddMinutes(21), "{\"ok\":true}", notice, None);
        Assert.False(await Store.TryStartDailyRunAsync(merchant.Id, "2026-11-24", T0.AddDays(1), TimeSpan.FromMinutes(15), None));
        var run = await Store.GetDailyRunAsync(merchant.Id, "2026-11-24", None);
        Assert.Equal(("{\"ok\":true}", T0.AddMinutes(21)), (run!.ReportJson, run.FinishedAt));
        Assert.Null(await Store.GetDailyRunAsync(merchant.Id, "2026-11-25", None));
    }

    [Fact]
    public async Task A_delivery_round_reads_its_messages_and_endpoints_at_once_and_records_each_attempt_with_its_timeline_entry()
    {
        var merchant = await NewMerchantAsync();
        var order = new OrderRecord("ord_" + Guid.NewGuid().ToString("N"), merchant.Id, "r-" + Guid.NewGuid().ToString("N")[..10], 49_900, "INR", 0, 0,
            OrderStatus.Created, null, "sandbox", new CustomerRecord("c1", null, null, null), "{}", null, "secret", "key-1", T0, T0);
        var message = new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "order.created", "order.created:" + order.Id, "{\"a\":1}", T0);
        var unheard = new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "order.expired", "order.expired:" + order.Id, "{\"b\":2}", T0);
        var early = new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "order.pending", "order.pending:" + order.Id, "{\"c\":3}", T0);
        Assert.True(await Store.InsertOrderAsync(order, new TimelineEntry(T0, "order.created", "created"), [message, unheard, early], None));
        var endpoint = new WebhookEndpointRecord("whe_" + Guid.NewGuid().ToString("N"), merchant.Id, "https://merchant.example/hooks", ["*"], "whsec_1", null, null,
            "enabled", null, null, null, T0);
        await Store.AddWebhookEndpointAsync(endpoint, None);
        var other = endpoint with { Id = "whe_" + Guid.NewGuid().ToString("N"), Url = "https://merchant.example/other" };
        await Store.AddWebhookEndpointAsync(other, None);

        // A round commits only what no other round did: the early message is dispatched already, so it gets no delivery.
        Assert.Equal([early.Id], await Store.CommitFanOutsAsync([new OutboxFanOut(early.Id, [])], T0, None));
        var delivery = new DeliveryRecord("dlv_" + Guid.NewGuid().ToString("N"), message.Id, merchant.Id, order.Id, message.Topic, "webhook", endpoint.Id, "pending",
            0, T0, null, null, T0, null);
        var lost = delivery with { Id = "dlv_" + Guid.NewGuid().ToString("N"), OutboxId = early.Id };
        // Created leased, as a dispatching node does: its first attempt counted, due when the lease ends.
        var leased = delivery with { Id = "dlv_" + Guid.NewGuid().ToString("N"), OutboxId = unheard.Id, Topic = unheard.Topic, Attempts = 1, AvailableAt = T0.AddMinutes(2) };
        Assert.Equal([message.Id, unheard.Id], await Store.CommitFanOutsAsync(
            [new OutboxFanOut(message.Id, [delivery]), new OutboxFanOut(early.Id, [lost]), new OutboxFanOut(unheard.Id, [leased])], T0, None));
        Assert.Null(await Store.GetDeliveryAsync(lost.Id, None));
        Assert.Equal(leased, await Store.GetDeliveryAsync(leased.Id, None));
        Assert.Equal([message with { DispatchedAt = T0 }, unheard with { DispatchedAt = T0 }],
            (await Store.GetOutboxMessagesAsync([unheard.Id, message.Id, "obx_missing"], None)).OrderBy(m => m.Id == unheard.Id));
        Assert.Equal(new[] { endpoint.Id, other.Id }.Order(StringComparer.Ordinal),
            (await Store.GetWebhookEndpointsAsync([other.Id, endpoint.Id, "whe_missing"], None)).Select(e => e.Id).Order(StringComparer.Ordinal));
        var read = Assert.Single(await Store.GetWebhookEndpointsAsync([endpoint.Id, "whe_missing"], None));
        Assert.Equal(endpoint with { EventTypes = read.EventTypes }, read);
        Assert.Equal(["*"], read.EventTypes);
        Assert.Empty(await Store.GetWebhookEndpointsAsync([], None));

        var claimed = Assert.Single(await Store.ClaimDueDeliveriesAsync(T0, T0.AddMinutes(2), 10, None));
        Assert.Equal(1, claimed.Attempts);
        var retryAt = T0.AddMinutes(1);
        await Store.RecordDeliveryAttemptsAsync([new DeliveryResult(new DeliveryAttemptRecord(delivery.Id, 1, T0, 500, 12, "oops", "answered 500"), order.Id, "pending",
            retryAt, new TimelineEntry(T0, "notification.failed", "failed once"))], None);
        var failed = (await Store.GetDeliveryAsync(delivery.Id, None))!;
        Assert.Equal(("pending", 500, "answered 500", retryAt, (DateTimeOffset?)null), (failed.Status, failed.LastStatusCode, failed.LastError, failed.AvailableAt, failed.DeliveredAt));

        // The endpoint's failure streak: set by a failure, kept by the next.
        Assert.Equal(T0, await Store.RecordEndpointFailureAsync(endpoint.Id, T0, None));
        Assert.Equal(T0, await Store.RecordEndpointFailureAsync(endpoint.Id, T0.AddSeconds(30), None));
        Assert.Equal(T0, (await Store.GetWebhookEndpointAsync(endpoint.Id, None))!.FailingSince);

        // Delivered: no next attempt, so the due time stays as it was (a NULL inside COALESCE, in a batch); the
        // endpoint took it, so its failure streak ends with the same write.
        var delivered = Assert.Single(await Store.ClaimDueDeliveriesAsync(retryAt, retryAt.AddMinutes(2), 10, None));
        await Store.RecordDeliveryAttemptsAsync([new DeliveryResult(new DeliveryAttemptRecord(delivery.Id, 2, retryAt, 200, 8, "ok", null), order.Id, "delivered",
            null, new TimelineEntry(retryAt, "notification.delivered", "delivered")) { TakenByEndpointId = endpoint.Id }], None);
        Assert.Null((await Store.GetWebhookEndpointAsync(endpoint.Id, None))!.FailingSince);
        var done = (await Store.GetDeliveryAsync(delivery.Id, None))!;
        Assert.Equal(("delivered", 200, (string?)null, retryAt.AddMinutes(2), (DateTimeOffset?)retryAt), (done.Status, done.LastStatusCode, done.LastError, done.AvailableAt, done.DeliveredAt));
        Assert.Equal([(1, (int?)500), (2, 200)], (await Store.ListDeliveryAttemptsAsync(delivery.Id, None)).Select(a => (a.Attempt, a.StatusCode)));
        Assert.Equal(["created", "failed once", "delivered"], (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message));
        // The leased delivery, never sent (its node stopped), is claimed once its lease has ended, and only then.
        Assert.Empty(await Store.ClaimDueDeliveriesAsync(leased.AvailableAt.AddSeconds(-1), T0.AddDays(1), 10, None));
        var taken = Assert.Single(await Store.ClaimDueDeliveriesAsync(leased.AvailableAt, T0.AddDays(1), 10, None));
        Assert.Equal((leased.Id, 2), (taken.Id, taken.Attempts));
        // The first lease's send ends late, after that claim: its record is kept, but the delivery is not set back.
        await Store.RecordDeliveryAttemptsAsync([new DeliveryResult(new DeliveryAttemptRecord(leased.Id, 1, leased.AvailableAt, 500, 9, "late", "answered 500"), order.Id,
            "pending", leased.AvailableAt.AddMinutes(1), new TimelineEntry(leased.AvailableAt, "notification.failed", "failed late"))], None);
        var unchanged = (await Store.GetDeliveryAsync(leased.Id, None))!;
        Assert.Equal(("pending", (int?)null, 2, taken.AvailableAt), (unchanged.Status, unchanged.LastStatusCode, unchanged.Attempts, unchanged.AvailableAt));
        Assert.Equal([(1, (int?)500)], (await Store.ListDeliveryAttemptsAsync(leased.Id, None)).Select(a => (a.Attempt, a.StatusCode)));

        // A new failure after the success starts a new streak.
        Assert.Equal(T0.AddHours(2), await Store.RecordEndpointFailureAsync(endpoint.Id, T0.AddHours(2), None));
    }

    [Fact]
    public async Task Attempt_records_sent_together_are_written_in_order_end_each_endpoint_s_streak_once_and_a_refused_one_fails_alone()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        var messages = Enumerable.Range(0, 3).Select(i => new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, $"order.topic{i}",
            $"order.topic{i}:" + order.Id, "{}", T0)).ToList();
        foreach (var message in messages)
        {
            Assert.True(await Store.AddOutboxMessageAsync(message, None));
        }
        var endpoint = new WebhookEndpointRecord("whe_" + Guid.NewGuid().ToString("N"), merchant.Id, "https://merchant.example/hooks", ["*"], "whsec_1", null, null,
            "enabled", null, null, null, T0);
        await Store.AddWebhookEndpointAsync(endpoint, None);
        await Store.RecordEndpointFailureAsync(endpoint.Id, T0, None);
        // Created leased, as a dispatching node does: the first attempt is counted.
        var deliveries = messages.Select(m => new DeliveryRecord("dlv_" + Guid.NewGuid().ToString("N"), m.Id, merchant.Id, order.Id, m.Topic, "webhook", endpoint.Id,
            "pending", 1, T0.AddMinutes(2), null, null, T0, null)).ToList();
        await Store.CommitFanOutsAsync([.. messages.Zip(deliveries, (m, d) => new OutboxFanOut(m.Id, [d]))], T0, None);
        DeliveryResult Result(DeliveryRecord d, int? statusCode, string? error, string entry) => new(
            new DeliveryAttemptRecord(d.Id, 1, T0.AddSeconds(1), statusCode, 5, "answer", error), order.Id, error is null ? "delivered" : "pending",
            error is null ? null : T0.AddMinutes(1), new TimelineEntry(T0.AddSeconds(1), "notification." + (error is null ? "delivered" : "failed"), entry))
        {
            TakenByEndpointId = error is null ? endpoint.Id : null,
        };

        Assert.Equal([null, null], await Store.RecordDeliveryAttemptsAsync([Result(deliveries[0], 200, null, "first"), Result(deliveries[1], 503, "answered 503", "second")], None));
        var first = (await Store.GetDeliveryAsync(deliveries[0].Id, None))!;
        var second = (await Store.GetDeliveryAsync(deliveries[1].Id, None))!;
        Assert.Equal(("delivered", (int?)200, (DateTimeOffset?)T0.AddSeconds(1)), (first.Status, first.LastStatusCode, first.DeliveredAt));
        Assert.Equal(("pending", (int?)503, "answered 503", T0.AddMinutes(1)), (second.Status, second.LastStatusCode, second.LastError, second.AvailableAt));
        Assert.Equal([(1, (int?)503)], (await Store.ListDeliveryAttemptsAsync(deliveries[1].Id, None)).Select(a => (a.Attempt, a.StatusCode)));
        Assert.Equal(["first", "second"], (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message).Where(m => m is "first" or "second"));
        Assert.Null((await Store.GetWebhookEndpointAsync(endpoint.Id, None))!.FailingSince);

        // A record the database refuses (here: no delivery id) fails alone: the one beside it is written, once.
        var refused = Result(deliveries[2], 200, null, "refused") with { Attempt = new DeliveryAttemptRecord(null!, 1, T0, 200, 5, null, null) };
        var outcomes = await Store.RecordDeliveryAttemptsAsync([Result(deliveries[2], 200, null, "third"), refused], None);
        Assert.Null(outcomes[0]);
        Assert.IsAssignableFrom<System.Data.Common.DbException>(outcomes[1]);
        Assert.IsAssignableFrom<System.Data.Common.DbException>(Assert.Single(await Store.RecordDeliveryAttemptsAsync([refused], None)));
        Assert.Equal("delivered", (await Store.GetDeliveryAsync(deliveries[2].Id, None))!.Status);
        Assert.Single(await Store.ListDeliveryAttemptsAsync(deliveries[2].Id, None));
        Assert.Single(await Store.GetTimelineAsync(order.Id, None), e => e.Message == "third");
        Assert.DoesNotContain("refused", (await Store.GetTimelineAsync(order.Id, None)).Select(e => e.Message));
        Assert.Empty(await Store.RecordDeliveryAttemptsAsync([], None));
    }

    [Fact]
    public async Task A_singleton_lock_has_one_holder_at_a_time()
    {
        var name = "test-" + Guid.NewGuid().ToString("N");
        var first = await Store.TryAcquireSingletonAsync(name, None);
        Assert.NotNull(first);
        Assert.Null(await Store.TryAcquireSingletonAsync(name, None));
        var other = await Store.TryAcquireSingletonAsync(name + "-other", None);
        Assert.NotNull(other);
        await other.DisposeAsync();
        await first.DisposeAsync();
        var again = await Store.TryAcquireSingletonAsync(name, None);
        Assert.NotNull(again);
        await again.DisposeAsync();
    }

    [Fact]
    public async Task Sandbox_status_queries_spend_scripted_failures_first_then_count_down_a_pending_payment()
    {
        var order = await Store.InsertSandboxOrderAsync(new SandboxOrderRecord("sbx_ord_" + Guid.NewGuid().ToString("N"), "k-" + Guid.NewGuid(), "ord_1", 100, "INR",
            "http://127.0.0.1/r", "http://127.0.0.1/n", "created", null, null, T0, T0), None);
        Assert.True(await Store.CompleteSandboxCheckoutAsync(new SandboxCompletion(order.Id, "pending", "pay_1", null, T0, PendingChecks: 2, EventualStatus: "succeeded"), [], None));
        Assert.True(await Store.SetSandboxStatusFailuresAsync(order.Id, 1, "timeout", None));

        var answers = new List<(string Status, string? Failed)>();
        for (var i = 0; i < 4; i++)
        {
            var query = await Store.QuerySandboxStatusAsync(order.Id, T0, None);
            answers.Add((query!.Order.Status, query.Failed));
        }
        Assert.Equal([("pending", "timeout"), ("pending", null), ("succeeded", null), ("succeeded", null)], answers);
        Assert.Equal(4, (await Store.GetSandboxOrderAsync(order.Id, None))!.StatusQueries);
        Assert.Null(await Store.QuerySandboxStatusAsync("sbx_ord_missing", T0, None));
    }

    private async Task<OrderRecord> PaidOrderAsync(MerchantRecord merchant, long amount)
    {
        var order = await NewOrderAsync(merchant);
        Assert.True(await Store.TryTransitionAsync(new StatusTransition(order.Id, OrderStatus.Created, OrderStatus.Succeeded, "paid", amount, null, null,
            new TimelineEntry(T0, "status.changed", "paid")) { Ledger = Domain.Ledger.LedgerRules.Capture(merchant.Id, order.Id, "sandbox", amount, "INR") }, None));
        return (await Store.GetOrderAsync(order.Id, None))!;
    }

    private static RefundRecord Refund(OrderRecord order, long amount, string key) =>
        new("rfd_" + Guid.NewGuid().ToString("N"), order.Id, order.MerchantId, amount, "INR", "pending", "manual", null, key, null, null, null, T0, T0);

    [Fact]
    public async Task Concurrent_refund_reservations_never_exceed_what_was_paid()
    {
        var merchant = await NewMerchantAsync();
        var order = await PaidOrderAsync(merchant, 10_000);
        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() =>
            Store.ReserveRefundAsync(Refund(order, 400, "k" + i), new TimelineEntry(T0, "refund.created", "r"), [], None))));
        Assert.Equal(25, results.Count(r => r is RefundReservation.Created));
        Assert.All(results.Where(r => r is not RefundReservation.Created), r => Assert.Equal(0, Assert.IsType<RefundReservation.ExceedsRefundable>(r).Refundable));
        Assert.Equal(10_000, (await Store.GetOrderAsync(order.Id, None))!.AmountRefundReserved);

        var createdKey = results.OfType<RefundReservation.Created>().First().Refund.IdempotencyKey;
        var again = await Store.ReserveRefundAsync(Refund(order, 400, createdKey), new TimelineEntry(T0, "refund.created", "r"), [], None);
        Assert.Equal(createdKey, Assert.IsType<RefundReservation.Duplicate>(again).Existing.IdempotencyKey);
        var unpaid = await NewOrderAsync(merchant);
        Assert.Equal("created", Assert.IsType<RefundReservation.NotRefundable>(
            await Store.ReserveRefundAsync(Refund(unpaid, 1, "x"), new TimelineEntry(T0, "refund.created", "r"), [], None)).OrderStatus);
    }

    [Fact]
    public async Task Concurrent_reservations_with_one_key_make_one_refund_and_reserve_once()
    {
        var merchant = await NewMerchantAsync();
        var order = await PaidOrderAsync(merchant, 10_000);
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() =>
            Store.ReserveRefundAsync(Refund(order, 1_000, "same"), new TimelineEntry(T0, "refund.created", "r"), [], None))));
        Assert.Single(results, r => r is RefundReservation.Created);
        Assert.Single(await Store.ListRefundsAsync(order.Id, None));
        Assert.Equal(1_000, (await Store.GetOrderAsync(order.Id, None))!.AmountRefundReserved);
    }

    [Fact]
    public async Task A_refund_completes_once_success_moves_the_order_and_posts_failure_frees_the_amount()
    {
        var merchant = await NewMerchantAsync();
        var order = await PaidOrderAsync(merchant, 10_000);
        var partial = ((RefundReservation.Created)await Store.ReserveRefundAsync(Refund(order, 4_000, "a"), new TimelineEntry(T0, "refund.created", "r"), [], None)).Refund;
        var failing = ((RefundReservation.Created)await Store.ReserveRefundAsync(Refund(order, 6_000, "b"), new TimelineEntry(T0, "refund.created", "r"), [], None)).Refund;
        await Store.SetRefundGatewayReferenceAsync(partial.Id, "gw-a", T0.AddMinutes(1), T0, None);
        Assert.Contains(partial.Id, await Store.ClaimDueRefundChecksAsync(T0.AddMinutes(1), T0.AddMinutes(3), 10, None));

        var success = new RefundCompletion(partial.Id, true, null, T0.AddMinutes(2), new TimelineEntry(T0.AddMinutes(2), "refund.succeeded", "ok"))
        {
            Ledger = Domain.Ledger.LedgerRules.Refund(merchant.Id, order.Id, partial.Id, "sandbox", 4_000, "INR"),
        };
        Assert.True(await Store.CompleteRefundAsync(success, None));
        Assert.False(await Store.CompleteRefundAsync(success, None));
        Assert.True(await Store.CompleteRefundAsync(new RefundCompletion(failing.Id, false, "declined", T0.AddMinutes(2), new TimelineEntry(T0.AddMinutes(2), "refund.failed", "no")), None));

        var after = (await Store.GetOrderAsync(order.Id, None))!;
        Assert.Equal((OrderStatus.PartiallyRefunded, 4_000L, 4_000L), (after.Status, after.AmountRefunded, after.AmountRefundReserved));
        Assert.Equal(("succeeded", "failed"), ((await Store.GetRefundAsync(partial.Id, None))!.Status, (await Store.GetRefundAsync(failing.Id, None))!.Status));
        Assert.Equal("declined", (await Store.GetRefundAsync(failing.Id, None))!.FailureReason);

        var totals = (await Store.OrderLedgerTotalsAsync(merchant.Id, None)).Single(t => t.OrderId == order.Id);
        Assert.Equal((10_000L, 4_000L), (totals.Captured, totals.RefundedPosted));
        Assert.Empty(await Store.LedgerImbalancesAsync(merchant.Id, None));
        Assert.Equal(4, (await Store.ListLedgerEntriesAsync(merchant.Id, order.Id, None)).Count);
    }

    [Fact]
    public async Task An_order_has_one_task_of_a_kind_claimed_by_one_worker_and_finished_once()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        var task = new OrderTaskRecord("tsk_" + Guid.NewGuid().ToString("N"), order.Id, OrderTaskRecord.Fulfil, "pending", null, 0, T0, null, T0, null);
        Assert.True(await Store.AddOrderTaskAsync(task, None));
        Assert.False(await Store.AddOrderTaskAsync(task with { Id = "tsk_other" + Guid.NewGuid().ToString("N") }, None));

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Store.ClaimDueOrderTasksAsync(T0, T0.AddMinutes(2), 10, None))));
        var claimed = Assert.Single(claims.SelectMany(c => c.Tasks), t => t.Id == task.Id);
        Assert.Equal(1, claimed.Attempts);
        // The claim read the task's order and merchant in its own command.
        Assert.Equal(await Store.GetOrderWithMerchantAsync(order.Id, None), Assert.Single(claims, c => c.Tasks.Contains(claimed)).ReadFor(claimed));

        await Store.RetryOrderTaskAsync(task.Id, T0.AddMinutes(5), "503", None);
        Assert.DoesNotContain((await Store.ClaimDueOrderTasksAsync(T0.AddMinutes(4), T0.AddMinutes(6), 10, None)).Tasks, t => t.Id == task.Id);
        Assert.Equal(2, Assert.Single((await Store.ClaimDueOrderTasksAsync(T0.AddMinutes(5), T0.AddMinutes(7), 10, None)).Tasks, t => t.Id == task.Id).Attempts);

        var compensate = new OrderTaskRecord("tsk_" + Guid.NewGuid().ToString("N"), order.Id, OrderTaskRecord.Compensate, "pending", "refused", 0, T0.AddMinutes(6), null, T0.AddMinutes(6), null);
        Assert.True(await Store.CompleteOrderTaskAsync(task, "failed", T0.AddMinutes(6), "410", new TimelineEntry(T0.AddMinutes(6), "fulfilment.failed", "no"), [compensate], [], null, None));
        // A second completion changes nothing and writes none of what goes with it.
        Assert.False(await Store.CompleteOrderTaskAsync(task, "done", T0.AddMinutes(7), null, new TimelineEntry(T0.AddMinutes(7), "fulfilment.done", "should not be written"),
            [compensate with { Id = "tsk_" + Guid.NewGuid().ToString("N"), Kind = "refused-kind" }],
            [new OutboxMessage("obx_" + Guid.NewGuid().ToString("N"), merchant.Id, order.Id, "order.fulfilled", "refused:" + task.Id, "{}", T0.AddMinutes(7))], null, None));
        var tasks = await Store.ListOrderTasksAsync(order.Id, None);
        Assert.Equal([("fulfil", "failed"), ("compensate", "pending")], tasks.Select(t => (t.Kind, t.Status)));
        Assert.DoesNotContain(await Store.GetTimelineAsync(order.Id, None), e => e.Message == "should not be written");
        Assert.DoesNotContain(await Store.ListOutboxMessagesAsync(merchant.Id, order.Id, None), m => m.DedupeKey == "refused:" + task.Id);

        await Store.RecordStepAsync(new StepRecord(order.Id, "fulfil", 2, T0, T0.AddSeconds(1), "permanent", "410"), None);
        Assert.Equal(("fulfil", 2, "410"), (await Store.ListStepsAsync(order.Id, None)).Select(s => (s.Step, s.Attempt, s.Error)).Single());

        // The step that ran a task goes with its completion, and is kept even when another worker finished the task first.
        var compensateClaimed = Assert.Single((await Store.ClaimDueOrderTasksAsync(T0.AddMinutes(8), T0.AddMinutes(10), 10, None)).Tasks, t => t.Id == compensate.Id);
        Assert.True(await Store.CompleteOrderTaskAsync(compensateClaimed, "done", T0.AddMinutes(8), null, new TimelineEntry(T0.AddMinutes(8), "compensation.refund_submitted", "refund"),
            [], [], new StepRecord(order.Id, "compensate", 1, T0.AddMinutes(8), T0.AddMinutes(8), "refund pending", null), None));
        Assert.False(await Store.CompleteOrderTaskAsync(compensateClaimed, "done", T0.AddMinutes(9), null, null,
            [], [], new StepRecord(order.Id, "compensate", 2, T0.AddMinutes(9), T0.AddMinutes(9), "refund pending", null), None));
        Assert.Equal([("fulfil", 2), ("compensate", 1), ("compensate", 2)], (await Store.ListStepsAsync(order.Id, None)).Select(s => (s.Step, s.Attempt)));
    }

    [Fact]
    public async Task Dashboard_users_are_unique_by_email_and_record_sign_ins()
    {
        var merchant = await NewMerchantAsync();
        var email = $"ops-{Guid.NewGuid():N}@example.com";
        var user = new DashboardUserRecord("usr_" + Guid.NewGuid().ToString("N"), merchant.Id, email, "hash", "operator", 0, null, null, T0);
        Assert.True(await Store.AddDashboardUserAsync(user, None));
        Assert.False(await Store.AddDashboardUserAsync(user with { Id = "usr_" + Guid.NewGuid().ToString("N") }, None));
        Assert.Equal(user, await Store.FindDashboardUserByEmailAsync(email, None));
        Assert.Null(await Store.FindDashboardUserByEmailAsync("nobody@example.com", None));

        await Store.RecordSignInAsync(user.Id, 3, T0.AddMinutes(15), null, None);
        Assert.Equal((3, T0.AddMinutes(15), (DateTimeOffset?)null), await Store.GetDashboardUserAsync(user.Id, None) is { } u ? (u.FailedSignIns, u.LockedUntil, u.LastSignInAt) : default);
        await Store.RecordSignInAsync(user.Id, 0, null, T0.AddMinutes(20), None);
        Assert.Equal((0, (DateTimeOffset?)null, T0.AddMinutes(20)), await Store.GetDashboardUserAsync(user.Id, None) is { } v ? (v.FailedSignIns, v.LockedUntil, v.LastSignInAt) : default);
        Assert.Equal([user.Id], (await Store.ListDashboardUsersAsync(merchant.Id, None)).Select(x => x.Id));
        Assert.Empty(await Store.ListDashboardUsersAsync((await NewMerchantAsync()).Id, None));
    }

    [Fact]
    public async Task The_audit_log_lists_a_merchants_entries_newest_first_and_by_target()
    {
        var merchant = await NewMerchantAsync();
        var other = await NewMerchantAsync();
        var first = new AuditRecord("aud_1" + Guid.NewGuid().ToString("N"), merchant.Id, "a@example.com", "admin", "order.refund", "ord_1", "asked", "ok", T0);
        var second = first with { Id = "aud_2" + Guid.NewGuid().ToString("N"), Target = "ord_2", Reason = null, Outcome = "refused: role-required", At = T0.AddMinutes(1) };
        await Store.AddAuditAsync(first, None);
        await Store.AddAuditAsync(second, None);
        await Store.AddAuditAsync(first with { Id = "aud_3" + Guid.NewGuid().ToString("N"), MerchantId = other.Id }, None);
        Assert.Equal([second, first], await Store.ListAuditAsync(merchant.Id, null, 10, None));
        Assert.Equal([first], await Store.ListAuditAsync(merchant.Id, "ord_1", 10, None));
        Assert.Equal([second], await Store.ListAuditAsync(merchant.Id, null, 1, None));
    }

    [Fact]
    public async Task Api_keys_are_listed_per_merchant_and_revoked_once()
    {
        var merchant = await NewMerchantAsync();
        var key = new ApiKeyRecord("key_" + Guid.NewGuid().ToString("N"), merchant.Id, "hash-" + Guid.NewGuid(), "sk_test_abcd", "test", T0, null);
        Assert.True(await Store.AddApiKeyAsync(key, None));
        Assert.Equal([key], await Store.ListApiKeysAsync(merchant.Id, None));
        Assert.Equal(KeyRevocation.NotFound, await Store.RevokeApiKeyAsync((await NewMerchantAsync()).Id, key.Id, T0, None));
        Assert.Equal(KeyRevocation.LastActiveKey, await Store.RevokeApiKeyAsync(merchant.Id, key.Id, T0, None));
        var next = key with { Id = "key_" + Guid.NewGuid().ToString("N"), KeyHash = "hash-" + Guid.NewGuid() };
        Assert.True(await Store.AddApiKeyAsync(next, None));
        Assert.Equal(KeyRevocation.Revoked, await Store.RevokeApiKeyAsync(merchant.Id, key.Id, T0.AddHours(1), None));
        Assert.Equal(KeyRevocation.AlreadyRevoked, await Store.RevokeApiKeyAsync(merchant.Id, key.Id, T0.AddHours(2), None));
        Assert.Equal(T0.AddHours(1), (await Store.FindApiKeyByHashAsync(key.KeyHash, None))!.RevokedAt);
        Assert.Equal(KeyRevocation.LastActiveKey, await Store.RevokeApiKeyAsync(merchant.Id, next.Id, T0.AddHours(3), None));

        // A live key does not stand in for the last test key.
        var live = next with { Id = "key_" + Guid.NewGuid().ToString("N"), KeyHash = "hash-" + Guid.NewGuid(), Mode = "live" };
        Assert.True(await Store.AddApiKeyAsync(live, None));
        Assert.Equal(KeyRevocation.LastActiveKey, await Store.RevokeApiKeyAsync(merchant.Id, next.Id, T0.AddHours(3), None));
        Assert.Equal(KeyRevocation.LastActiveKey, await Store.RevokeApiKeyAsync(merchant.Id, live.Id, T0.AddHours(3), None));
    }

    [Fact]
    public async Task Revoking_a_merchants_last_two_keys_at_once_leaves_one_active()
    {
        var merchant = await NewMerchantAsync();
        var keys = Enumerable.Range(0, 2).Select(_ => new ApiKeyRecord("key_" + Guid.NewGuid().ToString("N"), merchant.Id, "hash-" + Guid.NewGuid(), "sk_test_abcd", "test", T0, null)).ToList();
        foreach (var key in keys)
        {
            Assert.True(await Store.AddApiKeyAsync(key, None));
        }
        for (var round = 0; round < 20; round++)
        {
            // Both at once, many times over: each sees the other key active when it starts.
            var outcomes = await Task.WhenAll(keys.Select(k => Task.Run(() => Store.RevokeApiKeyAsync(merchant.Id, k.Id, T0, None))));
            Assert.Equal([KeyRevocation.Revoked, KeyRevocation.LastActiveKey], outcomes.Order());
            Assert.Single(await Store.ListApiKeysAsync(merchant.Id, None), k => k.RevokedAt is null);
            var revoked = keys.Single(k => outcomes[keys.IndexOf(k)] == KeyRevocation.Revoked);
            var replacement = revoked with { Id = "key_" + Guid.NewGuid().ToString("N"), KeyHash = "hash-" + Guid.NewGuid() };
            Assert.True(await Store.AddApiKeyAsync(replacement, None));
            keys[keys.IndexOf(revoked)] = replacement;
        }
    }

    [Fact]
    public async Task Overview_aggregates_count_volume_per_day_and_open_orders_by_age()
    {
        var merchant = await NewMerchantAsync();
        async Task<OrderRecord> At(DateTimeOffset created, string currency, long paid, OrderStatus status)
        {
            var order = new OrderRecord("ord_" + Guid.NewGuid().ToString("N"), merchant.Id, "r-" + Guid.NewGuid().ToString("N")[..10], 10_000, currency, paid, 0,
                status, null, "sandbox", new CustomerRecord("c1", null, null, null), "{}", null, "secret", "key", created, created);
            Assert.True(await Store.InsertOrderAsync(order, new TimelineEntry(created, "order.created", "created"), [], None));
            return order;
        }
        await At(T0, "INR", 10_000, OrderStatus.Succeeded);
        await At(T0.AddHours(1), "INR", 0, OrderStatus.Created);
        await At(T0.AddHours(2), "USD", 10_000, OrderStatus.Succeeded);
        await At(T0.AddDays(1), "INR", 0, OrderStatus.Created);
        await At(T0.AddDays(-3), "INR", 0, OrderStatus.Created);

        var volume = await Store.DailyVolumeAsync(merchant.Id, T0.Date, None);
        var day = DateOnly.FromDateTime(T0.UtcDateTime);
        Assert.Equal(
            [new DailyVolume(day, "INR", 2, 1, 10_000), new DailyVolume(day, "USD", 1, 1, 10_000), new DailyVolume(day.AddDays(1), "INR", 1, 0, 0)],
            volume);

        // Open orders (created) at T0+1d+10min: one 10 min old, one 23 h old, one 4 days old.
        var now = T0.AddDays(1).AddMinutes(10);
        Assert.Equal([1, 0, 1, 1], await Store.OpenOrdersByAgeAsync(merchant.Id, [now.AddMinutes(-15), now.AddHours(-1), now.AddHours(-24)], None));
        Assert.Equal(2, await Store.CountOrdersAsync(merchant.Id, "succeeded", None));
        Assert.Equal(0, await Store.CountOrdersAsync(merchant.Id, "requires_review", None));
    }

    [Fact]
    public async Task Only_a_fulfilment_waiting_after_a_failure_can_be_expedited()
    {
        var merchant = await NewMerchantAsync();
        var order = await NewOrderAsync(merchant);
        var task = new OrderTaskRecord("tsk_" + Guid.NewGuid().ToString("N"), order.Id, OrderTaskRecord.Fulfil, "pending", null, 0, T0, null, T0, null);
        Assert.True(await Store.AddOrderTaskAsync(task, None));
        Assert.False(await Store.ExpediteOrderTaskAsync(order.Id, OrderTaskRecord.Fulfil, T0.AddMinutes(1), None)); // never failed
        Assert.Single((await Store.ClaimDueOrderTasksAsync(T0, T0.AddMinutes(2), 10, None)).Tasks, t => t.Id == task.Id);
        await Store.RetryOrderTaskAsync(task.Id, T0.AddMinutes(30), "503", None);
        Assert.True(await Store.ExpediteOrderTaskAsync(order.Id, OrderTaskRecord.Fulfil, T0.AddMinutes(3), None));
        Assert.Single((await Store.ClaimDueOrderTasksAsync(T0.AddMinutes(3), T0.AddMinutes(5), 10, None)).Tasks, t => t.Id == task.Id);
        Assert.True(await Store.CompleteOrderTaskAsync(task, "done", T0.AddMinutes(4), null, null, [], [], null, None));
        Assert.False(await Store.ExpediteOrderTaskAsync(order.Id, OrderTaskRecord.Fulfil, T0.AddMinutes(5), None)); // ended
    }

    [Fact]
    public async Task Order_search_filters_and_pages_by_keyset()
    {
        var merchant = await NewMerchantAsync();
        var orders = new List<OrderRecord>();
        for (var i = 0; i < 5; i++)
        {
            var created = T0.AddMinutes(i < 4 ? i : 3); // the last two share a created_at: the id breaks the tie
            var order = new OrderRecord($"ord_s{i}_{Guid.NewGuid():N}", merchant.Id, $"Rcpt_{i}%", 1_000 * (i + 1), "INR", 0, 0, OrderStatus.Created, null,
                "sandbox", new CustomerRecord(i % 2 == 0 ? "even" : "odd", null, null, null), "{}", null, "secret", "key", created, created);
            Assert.True(await Store.InsertOrderAsync(order, new TimelineEntry(created, "order.created", "created"), [], None));
            orders.Add(order);
        }
        var all = new OrderQuery(merchant.Id);
        var newestFirst = orders.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id, StringComparer.Ordinal).Select(o => o.Id).ToArray();
        Assert.Equal(newestFirst, (await Store.SearchOrdersAsync(all, null, 10, None)).Select(r => r.Order.Id));
        var page1 = await Store.SearchOrdersAsync(all, null, 2, None);
        var page2 = await Store.SearchOrdersAsync(all, new OrderCursor(page1[^1].Order.CreatedAt, page1[^1].Order.Id), 10, None);
        Assert.Equal(newestFirst, page1.Concat(page2).Select(r => r.Order.Id));

        Assert.Equal(3, (await Store.SearchOrdersAsync(all with { CustomerId = "even" }, null, 10, None)).Count);
        Assert.Equal(2, (await Store.SearchOrdersAsync(all with { AmountMin = 2_000, AmountMax = 3_000 }, null, 10, None)).Count);
        Assert.Equal(5, (await Store.SearchOrdersAsync(all with { Text = "rcpt_" }, null, 10, None)).Count);
        Assert.Single(await Store.SearchOrdersAsync(all with { Text = "_2%" }, null, 10, None));
        Assert.Empty(await Store.SearchOrdersAsync(all with { Text = "_%_" }, null, 10, None)); // wildcards are literal
        Assert.Equal(5, (await Store.SearchOrdersAsync(all with { Statuses = [OrderStatus.Created, OrderStatus.Failed] }, null, 10, None)).Count);
        Assert.Empty(await Store.SearchOrdersAsync(all with { Statuses = [OrderStatus.Failed] }, null, 10, None));
        Assert.Equal(2, (await Store.SearchOrdersAsync(all with { CreatedFrom = T0.AddMinutes(1), CreatedTo = T0.AddMinutes(3) }, null, 10, None)).Count);
        Assert.Empty(await Store.SearchOrdersAsync(new OrderQuery((await NewMerchantAsync()).Id), null, 10, None));
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
