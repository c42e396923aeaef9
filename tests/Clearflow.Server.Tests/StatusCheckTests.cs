using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Checks;
using Clearflow.Application.Common;
using Clearflow.Application.Reports;
using Clearflow.Domain.Orders;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// No payment hangs: the poller, unknown, expiry, max age and the end-of-day sweep, on a fake clock.
/// Workers are off unless a test says otherwise, and rounds are run by hand after moving the clock,
/// so every step is deterministic.
/// </summary>
public abstract class StatusCheckTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    /// <summary>11:30 in Asia/Kolkata, the default end-of-day time zone.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 6, 0, 0, TimeSpan.Zero);

    public static Dictionary<string, string?> Workers(bool poller = false, bool endOfDay = false) => new()
    {
        ["Clearflow:Poller:Enabled"] = poller ? "true" : "false",
        ["Clearflow:EndOfDay:Enabled"] = endOfDay ? "true" : "false",
        // Short, so that the scripted "timeout" outage does not hold a test for the shipped 10 s; not shorter than
        // 3 s, because a real status query on a busy 2-core machine can take over a second, and would then read as an outage.
        ["Clearflow:Sandbox:RequestTimeout"] = "00:00:03",
    };

    private async Task<(ClearflowTestHost Host, FakeTimeProvider Clock)> StartAsync(bool poller = false)
    {
        var clock = new FakeTimeProvider(Start);
        var host = await Environment.StartExtraHostAsync(kind, s => s.AddSingleton<TimeProvider>(clock), Workers(poller));
        return (host, clock);
    }

    /// <summary>Runs poller rounds until nothing is due, as the worker would after the clock moved.</summary>
    public static async Task<int> RunChecksAsync(ClearflowTestHost host)
    {
        var total = 0;
        RunDueStatusChecks.Round round;
        do
        {
            using var scope = host.Services.CreateScope();
            round = await scope.ServiceProvider.GetRequiredService<RunDueStatusChecks>().HandleAsync(50, default);
            Assert.Empty(round.Failures);
            total += round.Claimed;
        }
        while (round.Claimed > 0);
        return total;
    }

    private static async Task<string> AdvanceAndCheckAsync(ClearflowTestHost host, FakeTimeProvider clock, TimeSpan by, HttpClient client, JsonElement order)
    {
        clock.Advance(by);
        await RunChecksAsync(host);
        return (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString()!;
    }

    public static async Task<int> StatusQueriesAsync(ClearflowTestHost host, JsonElement order) =>
        (await host.Store.GetSandboxOrderAsync(Api.SandboxOrderId(order), default))!.StatusQueries;

    private static async Task ScriptStatusFailuresAsync(ClearflowTestHost host, JsonElement order, int failures, string mode)
    {
        using var client = host.CreateClient(authenticate: false);
        using var response = await client.PostAsJsonAsync($"/sandbox/orders/{Api.SandboxOrderId(order)}/behaviour", new { status_failures = failures, status_failure_mode = mode });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_payment_whose_webhook_is_lost_ends_succeeded_through_the_poller_worker()
    {
        var (host, clock) = await StartAsync(poller: true);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "none");
        Assert.Equal("created", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());

        clock.Advance(TimeSpan.FromMinutes(1)); // the first check is due 1 minute after the customer reached the gateway
        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        Assert.Contains(final.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("(poll)", StringComparison.Ordinal));
        Assert.Equal(1, await StatusQueriesAsync(host, order));
    }

    [Fact]
    public async Task A_payment_pending_for_three_checks_then_succeeding_follows_the_schedule()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        using (var complete = await host.CreateClient(authenticate: false).PostAsJsonAsync($"/sandbox/checkout/{Api.SandboxOrderId(order)}/complete",
                   new { outcome = "pending", then = "success", after_checks = 3 }))
        {
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        }
        await Api.WaitForStatusAsync(client, Api.Id(order), "pending"); // the pending webhook

        Assert.Equal("pending", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromSeconds(59), client, order)); // not due yet
        Assert.Equal(0, await StatusQueriesAsync(host, order));
        Assert.Equal("pending", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromSeconds(1), client, order));   // 1 min
        Assert.Equal("pending", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(5), client, order));   // +5 min
        Assert.Equal(2, await StatusQueriesAsync(host, order));
        Assert.Equal("pending", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(14), client, order));  // not yet +15
        Assert.Equal("succeeded", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(1), client, order)); // +15 min
        Assert.Equal(3, await StatusQueriesAsync(host, order));

        // Final: no more checks, however long we wait.
        clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(0, await RunChecksAsync(host));
        Assert.Equal(3, await StatusQueriesAsync(host, order));
    }

    [Theory]
    [InlineData("error")]
    [InlineData("timeout")]
    public async Task A_gateway_outage_leaves_the_order_unknown_and_recovery_gives_the_right_final_status(string mode)
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "failure", webhook: "none");
        await ScriptStatusFailuresAsync(host, order, 2, mode);

        Assert.Equal("unknown", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(1), client, order));
        Assert.Equal("unknown", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromSeconds(30), client, order)); // backoff 30 s
        var unknown = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Contains("could not be asked", unknown.GetProperty("status_reason").GetString());
        Assert.Equal("failed", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromSeconds(60), client, order)); // backoff 60 s, gateway back
        Assert.Equal(3, await StatusQueriesAsync(host, order));
    }

    [Fact]
    public async Task An_unpaid_order_expires_only_after_the_gateway_confirms_nothing_was_paid()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var unpaid = await Api.CreateOrderAsync(client);
        var pendingAtGateway = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, pendingAtGateway, "pending", webhook: "none");

        Assert.Equal("created", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(1), client, unpaid));
        Assert.Equal("created", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(28), client, unpaid));
        Assert.Equal("expired", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(1), client, unpaid));
        Assert.True(await StatusQueriesAsync(host, unpaid) >= 2);
        var expired = await Api.GetOrderAsync(client, Api.Id(unpaid));
        Assert.Contains("not paid within", expired.GetProperty("status_reason").GetString());

        // A payment the gateway reports pending is never expired on a guess.
        Assert.Equal("pending", (await Api.GetOrderAsync(client, Api.Id(pendingAtGateway))).GetProperty("status").GetString());
    }

    private static async Task UseMaxAgeOfOneHourAsync(HttpClient client)
    {
        using var put = await client.PutAsync("/v1/merchant/settings", new StringContent(
            """{"status_checks":{"intervals":["00:01:00"],"repeat_every":"00:15:00","max_age":"01:00:00","expire_unpaid_after":"00:30:00"}}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
    }

    [Fact]
    public async Task At_its_maximum_age_an_order_goes_to_review_with_the_reason_and_operators_are_notified()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        await UseMaxAgeOfOneHourAsync(client);
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "pending", webhook: "none");

        var status = "";
        for (var i = 0; i < 8 && status != "requires_review"; i++)
        {
            status = await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(15), client, order);
            Assert.True(status is "pending" or "requires_review", status);
        }
        var reviewed = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("requires_review", reviewed.GetProperty("status").GetString());
        Assert.Contains("no final status after 01:00:00", reviewed.GetProperty("status_reason").GetString());
        Assert.Contains("last gateway answer: pending", reviewed.GetProperty("status_reason").GetString());
        Assert.True(clock.GetUtcNow() - Start <= TimeSpan.FromMinutes(61 + 15));

        var notices = await host.Store.ListOutboxMessagesAsync((await host.Store.GetOrderAsync(Api.Id(order), default))!.MerchantId, Api.Id(order), default);
        Assert.Single(notices, n => n.Topic == OperatorNotices.RequiresReviewTopic);

        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await RunChecksAsync(host)); // with an operator now: no more automatic checks
    }

    [Fact]
    public async Task A_success_after_the_order_expired_is_recorded_as_a_late_success_and_flagged_for_compensation()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        Assert.Equal("created", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(1), client, order));
        Assert.Equal("expired", await AdvanceAndCheckAsync(host, clock, TimeSpan.FromMinutes(29), client, order));
        Assert.False((await Api.GetOrderAsync(client, Api.Id(order))).TryGetProperty("next_check_at", out _));

        // The customer paid anyway, and only the gateway's webhook says so.
        await Api.CompleteCheckoutAsync(host, order, "success");
        var late = await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        Assert.Contains("status.late_success", Api.TimelineKinds(late));
        Assert.True(late.TryGetProperty("compensation_required_at", out _));
        Assert.Equal(49_900, late.GetProperty("amount_paid").GetInt64());
    }

    [Fact]
    public async Task An_operator_recheck_asks_the_gateway_at_once()
    {
        var (host, _) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "none");

        using var response = await client.PostAsync($"/v1/orders/{Api.Id(order)}/recheck", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("succeeded", view.GetProperty("status").GetString());
        Assert.Contains(view.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("operator re-check", StringComparison.Ordinal));

        using var missing = await client.PostAsync("/v1/orders/ord_nope/recheck", null);
        await Api.ProblemAsync(missing, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task The_end_of_day_sweep_checks_the_days_open_orders_and_its_report_lists_what_is_stuck_once()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var stuck = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, stuck, "pending", webhook: "none");
        var lostWebhook = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, lostWebhook, "success", webhook: "none");

        using (var early = await client.GetAsync("/v1/reports/daily/2026-11-24"))
        {
            await Api.ProblemAsync(early, HttpStatusCode.NotFound, "not-found");
        }

        clock.Advance(TimeSpan.FromHours(12).Add(TimeSpan.FromMinutes(1))); // 23:31 in Kolkata; the poller is off
        using (var scope = host.Services.CreateScope())
        {
            var reports = await scope.ServiceProvider.GetRequiredService<RunDueEndOfDaySweeps>().HandleAsync(default);
            Assert.Equal("2026-11-24", Assert.Single(reports).Date);
        }

        Assert.Equal("succeeded", (await Api.GetOrderAsync(client, Api.Id(lostWebhook))).GetProperty("status").GetString());
        var report = await client.GetFromJsonAsync<JsonElement>("/v1/reports/daily/2026-11-24");
        Assert.Equal(2, report.GetProperty("checked_now").GetInt32());
        var byStatus = report.GetProperty("by_status").EnumerateArray().ToDictionary(l => l.GetProperty("status").GetString()!, l => l);
        Assert.Equal(1, byStatus["succeeded"].GetProperty("count").GetInt32());
        Assert.Equal(49_900, byStatus["succeeded"].GetProperty("amount").GetInt64());
        Assert.Equal(1, byStatus["pending"].GetProperty("count").GetInt32());
        var open = Assert.Single(report.GetProperty("not_final").EnumerateArray());
        Assert.Equal(Api.Id(stuck), open.GetProperty("order_id").GetString());
        Assert.Equal("pending", open.GetProperty("last_gateway_answer").GetString());
        Assert.True(open.GetProperty("age_seconds").GetInt64() >= 12 * 3600);

        var merchantId = (await host.Store.GetOrderAsync(Api.Id(stuck), default))!.MerchantId;
        Assert.Single(await host.Store.ListOutboxMessagesAsync(merchantId, null, default), n => n.Topic == OperatorNotices.DailyReportTopic);

        // Exactly one run per merchant and day.
        var queries = await StatusQueriesAsync(host, stuck);
        clock.Advance(TimeSpan.FromMinutes(5));
        using (var scope = host.Services.CreateScope())
        {
            Assert.Empty(await scope.ServiceProvider.GetRequiredService<RunDueEndOfDaySweeps>().HandleAsync(default));
        }
        Assert.Equal(queries, await StatusQueriesAsync(host, stuck));
    }

    [Fact]
    public async Task An_end_of_day_run_missed_while_clearflow_was_down_happens_at_the_next_start()
    {
        var clock = new FakeTimeProvider(Start);
        var database = await Environment.NewDatabaseAsync(kind);
        var first = await Environment.StartOnDatabaseAsync(database, s => s.AddSingleton<TimeProvider>(clock), Workers(endOfDay: true));
        JsonElement stuck;
        using (var client = first.CreateClient())
        {
            stuck = await Api.CreateOrderAsync(client);
            await Api.CompleteCheckoutAsync(first, stuck, "pending", webhook: "none");
        }
        await first.DisposeAsync(); // down from 11:30 ...

        clock.Advance(TimeSpan.FromHours(20)); // ... until 07:30 the next morning: 23:30 passed unseen
        var second = await Environment.StartOnDatabaseAsync(database, s => s.AddSingleton<TimeProvider>(clock), Workers(endOfDay: true));
        using var api = second.CreateClient();
        // The report exists once the sweep of the missed day has run.
        using var response = await Api.PollAsync(() => api.GetAsync("/v1/reports/daily/2026-11-24"), r => r.StatusCode == HttpStatusCode.OK,
            r => $"No report for 2026-11-24 in 20 s: the last answer was {(int)r.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Api.Id(stuck), Assert.Single(report.GetProperty("not_final").EnumerateArray()).GetProperty("order_id").GetString());
    }

    /// <summary>
    /// Runs the poll's check of the order on the real store, except that right before the check's first status move is
    /// written (decided on <paramref name="from"/>), another signal's move to <paramref name="to"/> commits. Returns what
    /// the check said and the order as the API shows it afterwards.
    /// </summary>
    private static async Task<(string Outcome, JsonElement View)> CheckRacedByAsync(ClearflowTestHost host, HttpClient client, TimeProvider clock, JsonElement order,
        OrderStatus from, OrderStatus to)
    {
        var orderId = Api.Id(order);
        var attempt = (await host.Store.GetAttemptsAsync(orderId, default)).Single();
        var racing = CallHook<IClearflowStore>.Before(host.Store, nameof(IClearflowStore.TryTransitionAsync), async () =>
            Assert.True(await host.Store.TryTransitionAsync(new StatusTransition(orderId, from, to, "the racing signal", null, attempt.Id, null,
                new TimelineEntry(clock.GetUtcNow(), "status.changed", $"{from.ToWire()} -> {to.ToWire()}: the racing signal.", null)), default)));
        using var scope = host.Services.CreateScope();
        var outcome = await ActivatorUtilities.CreateInstance<CheckOrderStatus>(scope.ServiceProvider, racing).HandleAsync(orderId, "poll", default);
        return (outcome, await Api.GetOrderAsync(client, orderId));
    }

    [Fact]
    public async Task An_unreachable_gateway_after_a_racing_pending_signal_is_recorded_as_pending_to_unknown_and_checked_again()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await ScriptStatusFailuresAsync(host, order, 1, "error");
        clock.Advance(TimeSpan.FromMinutes(1));
        var (outcome, view) = await CheckRacedByAsync(host, client, clock, order, OrderStatus.Created, OrderStatus.Pending);

        Assert.StartsWith("unreachable; next check at", outcome);
        Assert.Equal("unknown", view.GetProperty("status").GetString());
        var moves = Api.StatusMoves(view);
        Assert.Equal(2, moves.Count);
        Assert.StartsWith("created -> pending", moves[0]);
        Assert.StartsWith("pending -> unknown", moves[1]);
        Assert.True(view.TryGetProperty("next_check_at", out _));
    }

    [Fact]
    public async Task An_expiry_that_loses_to_a_pending_signal_is_not_taken_and_the_order_is_checked_again()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        clock.Advance(TimeSpan.FromMinutes(31)); // past the 30 minutes an unpaid order has; the gateway still says created
        // Decided on 'created'; meanwhile the gateway's pending webhook moved the order: the customer is paying.
        var (outcome, view) = await CheckRacedByAsync(host, client, clock, order, OrderStatus.Created, OrderStatus.Pending);

        Assert.Contains("next check at", outcome);
        Assert.Equal("pending", view.GetProperty("status").GetString());
        Assert.StartsWith("created -> pending", Assert.Single(Api.StatusMoves(view)));
        Assert.True(view.TryGetProperty("next_check_at", out _));
    }

    [Fact]
    public async Task A_review_that_loses_to_a_racing_move_is_decided_again_on_the_status_that_won()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        await UseMaxAgeOfOneHourAsync(client);
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "pending");
        await Api.WaitForStatusAsync(client, Api.Id(order), "pending");
        clock.Advance(TimeSpan.FromMinutes(61)); // past the maximum age; the gateway still says pending
        // Decided on 'pending'; meanwhile an operator's re-check found the gateway unreachable and made the order unknown.
        var (outcome, view) = await CheckRacedByAsync(host, client, clock, order, OrderStatus.Pending, OrderStatus.Unknown);

        Assert.EndsWith("requires_review", outcome);
        Assert.Equal("requires_review", view.GetProperty("status").GetString());
        var moves = Api.StatusMoves(view);
        Assert.Equal(3, moves.Count);
        Assert.StartsWith("pending -> unknown", moves[1]);
        Assert.StartsWith("unknown -> requires_review", moves[2]);
        var notices = await host.Store.ListOutboxMessagesAsync((await host.Store.GetOrderAsync(Api.Id(order), default))!.MerchantId, Api.Id(order), default);
        Assert.Single(notices, n => n.Topic == OperatorNotices.RequiresReviewTopic);
    }

    [Fact]
    public async Task Invalid_schedules_cron_expressions_and_time_zones_are_refused_when_saved()
    {
        var (host, _) = await StartAsync();
        using var client = host.CreateClient();
        var before = await client.GetStringAsync("/v1/merchant/settings");

        async Task<JsonElement> PutAsync(string json, HttpStatusCode status, string code)
        {
            using var response = await client.PutAsync("/v1/merchant/settings", new StringContent(json, Encoding.UTF8, "application/json"));
            return await Api.ProblemAsync(response, status, code);
        }

        var problem = await PutAsync("""{"end_of_day":{"cron":"99 25 * * *","time_zone":"Mars/Olympus"}}""", HttpStatusCode.UnprocessableEntity, "validation-failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("end_of_day.cron", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("end_of_day.time_zone", out _));
        problem = await PutAsync("""{"status_checks":{"intervals":["00:00:01"],"repeat_every":"00:15:00","max_age":"90.00:00:00","expire_unpaid_after":"00:30:00"}}""",
            HttpStatusCode.UnprocessableEntity, "validation-failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("status_checks.intervals", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("status_checks.max_age", out _));
        problem = await PutAsync("""{"gateways":["paypal"],"default_gateway":"paypal"}""", HttpStatusCode.UnprocessableEntity, "validation-failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("gateways", out _));
        await PutAsync("""{"status_checks":{"repeat_every":"every quarter hour"}}""", HttpStatusCode.BadRequest, "malformed-json");
        Assert.Equal(before, await client.GetStringAsync("/v1/merchant/settings"));

        using var ok = await client.PutAsync("/v1/merchant/settings", new StringContent(
            """{"end_of_day":{"cron":"0 22 * * 1-5","time_zone":"Europe/Berlin"},"gateway_status_checks":{"sandbox":{"intervals":["00:00:30"],"repeat_every":"00:05:00","max_age":"06:00:00","expire_unpaid_after":"00:20:00"}}}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var saved = await client.GetFromJsonAsync<JsonElement>("/v1/merchant/settings");
        Assert.Equal("Europe/Berlin", saved.GetProperty("end_of_day").GetProperty("time_zone").GetString());
        Assert.Equal("00:05:00", saved.GetProperty("gateway_status_checks").GetProperty("sandbox").GetProperty("repeat_every").GetString());
    }
}

[Collection(ServerCollection.Name)]
public sealed class StatusChecksOnSqlite(ServerEnvironment environment) : StatusCheckTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class StatusChecksOnPostgres(ServerEnvironment environment) : StatusCheckTests(environment, StoreKind.Postgres);

/// <summary>Many nodes, one truth: two Clearflow processes on one PostgreSQL database.</summary>
[Collection(ServerCollection.Name)]
public sealed class TwoNodesOnPostgres(ServerEnvironment environment) : ServerTest(environment)
{
    [Fact]
    public async Task Two_nodes_polling_together_check_each_due_order_once_per_due_time()
    {
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var database = await Environment.NewDatabaseAsync(StoreKind.Postgres);
        var nodeA = await Environment.StartOnDatabaseAsync(database, s => s.AddSingleton<TimeProvider>(clock), StatusCheckTests.Workers());
        var nodeB = await Environment.StartOnDatabaseAsync(database, s => s.AddSingleton<TimeProvider>(clock), StatusCheckTests.Workers());
        using var client = nodeA.CreateClient();
        var orders = new List<JsonElement>();
        for (var i = 0; i < 30; i++)
        {
            var order = await Api.CreateOrderAsync(client);
            await Api.CompleteCheckoutAsync(nodeA, order, "pending", webhook: "none");
            orders.Add(order);
        }

        foreach (var (advance, expected) in new[] { (TimeSpan.FromMinutes(1), 1), (TimeSpan.FromMinutes(5), 2), (TimeSpan.FromMinutes(15), 3) })
        {
            clock.Advance(advance);
            var claimed = await Task.WhenAll(
                Task.Run(() => StatusCheckTests.RunChecksAsync(nodeA)), Task.Run(() => StatusCheckTests.RunChecksAsync(nodeB)),
                Task.Run(() => StatusCheckTests.RunChecksAsync(nodeA)), Task.Run(() => StatusCheckTests.RunChecksAsync(nodeB)));
            Assert.Equal(orders.Count, claimed.Sum());
            foreach (var order in orders)
            {
                Assert.Equal(expected, await StatusCheckTests.StatusQueriesAsync(nodeA, order));
            }
        }
    }
}
