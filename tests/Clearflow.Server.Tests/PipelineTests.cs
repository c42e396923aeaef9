using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Ledger;
using Clearflow.Application.Pipeline;
using Clearflow.Application.Refunds;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Crash injection: throws once at the named boundary, as if the process died there.</summary>
public sealed class CrashOnce(string boundary) : IPipelineFaults
{
    private int _crashed;

    public bool Crashed => _crashed == 1;

    public void At(string boundary1)
    {
        if (boundary1 == boundary && Interlocked.Exchange(ref _crashed, 1) == 0)
        {
            throw new SimulatedCrashException(boundary1);
        }
    }
}

public sealed class SimulatedCrashException(string boundary) : Exception("simulated crash at " + boundary);

/// <summary>The pipeline after a payment: fulfil, compensate with a refund, refunds, and the ledger.</summary>
public abstract class PipelineTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private async Task<(ClearflowTestHost Host, FakeTimeProvider Clock)> StartAsync(IPipelineFaults? faults = null)
    {
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var host = await Environment.StartExtraHostAsync(kind, s =>
        {
            s.AddSingleton<TimeProvider>(clock);
            if (faults is not null)
            {
                s.AddSingleton(faults);
            }
        }, StatusCheckTests.Workers());
        return (host, clock);
    }

    /// <summary>Runs pipeline rounds (tasks and refund checks) until nothing is due; returns the crashes seen.</summary>
    private static async Task<List<Exception>> RunPipelineAsync(ClearflowTestHost host)
    {
        var failures = new List<Exception>();
        for (var round = 0; round < 20; round++)
        {
            using var scope = host.Services.CreateScope();
            var tasks = await scope.ServiceProvider.GetRequiredService<RunOrderTasks>().HandleAsync(50, default);
            failures.AddRange(tasks.Failures.Select(f => f.Error));
            var refunds = await scope.ServiceProvider.GetRequiredService<RunDueRefundChecks>().HandleAsync(50, default);
            if (tasks.Claimed == 0 && refunds == 0)
            {
                return failures;
            }
        }
        Assert.Fail("The pipeline did not settle in 20 rounds.");
        return failures;
    }

    private static async Task<string> UseFulfilmentEndpointAsync(HttpClient client, Uri url, int maxAttempts = 3)
    {
        using var response = await client.PutAsync("/v1/merchant/settings", new StringContent(JsonSerializer.Serialize(new
        {
            fulfilment = new { mode = "webhook", url = url.ToString(), max_attempts = maxAttempts, timeout = "00:00:05" },
        }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settings = await response.Content.ReadFromJsonAsync<JsonElement>();
        return settings.GetProperty("fulfilment").GetProperty("signing_secret").GetString()!;
    }

    private static async Task<JsonElement> PaidOrderAsync(ClearflowTestHost host, HttpClient client, long amount = 49_900)
    {
        var order = await Api.CreateOrderAsync(client, amount: amount);
        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        return order;
    }

    private static async Task<JsonElement> VerifyLedgerAsync(HttpClient client)
    {
        var verification = await client.GetFromJsonAsync<JsonElement>("/v1/ledger/verify");
        Assert.True(verification.GetProperty("balanced").GetBoolean(), verification.ToString());
        return verification;
    }

    /// <summary>Standard Webhooks, written here independently: v1,base64(HMAC-SHA256(base64-decoded secret, id.timestamp.body)).</summary>
    private static bool SignatureVerifies(string secret, FakeMerchantEndpoint.Received request)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{request.WebhookId}.{request.Timestamp}.{request.Body}")));
        return request.Signature!.Split(' ').Contains(expected);
    }

    [Fact]
    public async Task A_paid_order_is_fulfilled_by_a_signed_request_and_the_steps_are_on_the_order()
    {
        var (host, _) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        var secret = await UseFulfilmentEndpointAsync(client, merchant.Url);
        var order = await PaidOrderAsync(host, client);

        Assert.Empty(await RunPipelineAsync(host));
        var request = Assert.Single(merchant.Requests);
        Assert.True(SignatureVerifies(secret, request));
        Assert.Equal(Api.Id(order), JsonDocument.Parse(request.Body).RootElement.GetProperty("order_id").GetString());

        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("done", view.GetProperty("fulfilment").GetString());
        Assert.Equal(["verify", "transition", "fulfil"], view.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        Assert.Contains("fulfilment.succeeded", Api.TimelineKinds(view));
        await VerifyLedgerAsync(client);
    }

    [Fact]
    public async Task A_fulfilment_that_starts_over_a_second_after_its_claim_reads_the_merchant_s_settings_again()
    {
        var (host, clock) = await StartAsync();
        await using var before = await FakeMerchantEndpoint.StartAsync();
        await using var after = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        await UseFulfilmentEndpointAsync(client, before.Url);
        for (var i = 0; i <= RunOrderTasks.Parallelism; i++)
        {
            await PaidOrderAsync(host, client); // one task more than a round runs at once: the last starts when a slot frees
        }
        // Once the first tasks' requests are all in, with their claim's read: 2 s pass and the merchant moves its endpoint.
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var moved = 0;
        before.BeforeAnswer = async () =>
        {
            if (before.Requests.Count == RunOrderTasks.Parallelism && Interlocked.Exchange(ref moved, 1) == 0)
            {
                clock.Advance(TimeSpan.FromSeconds(2));
                await UseFulfilmentEndpointAsync(client, after.Url);
                allIn.SetResult();
            }
            await allIn.Task.WaitAsync(TimeSpan.FromSeconds(30));
        };

        Assert.Empty(await RunPipelineAsync(host));
        Assert.Equal(RunOrderTasks.Parallelism, before.Requests.Count); // started at once: the claim's read (the contract test shows it holds the order and merchant)
        Assert.Single(after.Requests); // read again: its claim's read was 2 s old when it started
    }

    /// <summary>What an app embedding Clearflow registers to fulfil in process.</summary>
    private sealed class RecordingHandler(Domain.Pipeline.FulfilmentOutcome answer) : IFulfilmentHandler
    {
        public List<FulfilmentRequest> Requests { get; } = [];

        public Task<Domain.Pipeline.FulfilmentOutcome> FulfilAsync(FulfilmentRequest request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(answer);
        }
    }

    [Theory]
    [InlineData(Domain.Pipeline.FulfilmentOutcome.Fulfilled, "succeeded", "done")]
    [InlineData(Domain.Pipeline.FulfilmentOutcome.Permanent, "refunded", "failed")]
    public async Task An_in_process_fulfilment_handler_is_called_once_and_its_answer_decides(Domain.Pipeline.FulfilmentOutcome answer, string status, string fulfilment)
    {
        var handler = new RecordingHandler(answer);
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var host = await Environment.StartExtraHostAsync(kind, s =>
        {
            s.AddSingleton<TimeProvider>(clock);
            s.AddSingleton<IFulfilmentHandler>(handler);
        }, StatusCheckTests.Workers());
        using var client = host.CreateClient();
        using (var put = await client.PutAsync("/v1/merchant/settings", new StringContent("""{"fulfilment":{"mode":"in_process"}}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        var order = await PaidOrderAsync(host, client);
        Assert.Empty(await RunPipelineAsync(host));

        var request = Assert.Single(handler.Requests);
        Assert.Equal((Api.Id(order), 49_900L, "mug"), (request.OrderId, request.Amount, request.Metadata["sku"]));
        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal((status, fulfilment), (view.GetProperty("status").GetString(), view.GetProperty("fulfilment").GetString()));
    }

    [Fact]
    public async Task When_fulfilment_is_refused_the_customer_is_refunded_and_told_and_the_order_shows_why()
    {
        var (host, _) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        merchant.Answer(410);
        using var client = host.CreateClient();
        await UseFulfilmentEndpointAsync(client, merchant.Url);
        var order = await PaidOrderAsync(host, client);

        Assert.Empty(await RunPipelineAsync(host));
        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("refunded", view.GetProperty("status").GetString());
        Assert.Equal(49_900, view.GetProperty("amount_refunded").GetInt64());
        Assert.Equal("failed", view.GetProperty("fulfilment").GetString());
        Assert.Contains("fulfilment.failed", Api.TimelineKinds(view));
        var refund = Assert.Single(await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/refunds") ?? []);
        Assert.Equal(("automatic", "succeeded"), (refund.GetProperty("kind").GetString(), refund.GetProperty("status").GetString()));
        Assert.Contains("fulfilment failed: merchant endpoint answered 410", refund.GetProperty("reason").GetString());

        var notices = await host.Store.ListOutboxMessagesAsync((await host.Store.GetOrderAsync(Api.Id(order), default))!.MerchantId, Api.Id(order), default);
        Assert.Single(notices, n => n.Topic == "customer.refund_succeeded");
        Assert.Single(notices, n => n.Topic == "fulfilment.failed");
        Assert.Single(notices, n => n.Topic == "order.refunded");
        await VerifyLedgerAsync(client);
    }

    [Fact]
    public async Task A_failing_fulfilment_endpoint_is_retried_with_backoff_then_compensated_when_attempts_run_out()
    {
        var (host, clock) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        merchant.Answer(503, 500, 502);
        using var client = host.CreateClient();
        await UseFulfilmentEndpointAsync(client, merchant.Url, maxAttempts: 3);
        var order = await PaidOrderAsync(host, client);

        await RunPipelineAsync(host);
        Assert.Single(merchant.Requests);
        clock.Advance(TimeSpan.FromSeconds(2)); // first backoff is 1-2 s
        await RunPipelineAsync(host);
        Assert.Equal(2, merchant.Requests.Count);
        clock.Advance(TimeSpan.FromSeconds(4));
        await RunPipelineAsync(host);
        Assert.Equal(3, merchant.Requests.Count);
        Assert.Single(merchant.Requests.Select(r => r.WebhookId).Distinct()); // one fulfilment, asked three times

        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("refunded", view.GetProperty("status").GetString());
        Assert.Equal(["transient", "transient", "transient"],
            view.GetProperty("steps").EnumerateArray().Where(s => s.GetProperty("step").GetString() == "fulfil").Select(s => s.GetProperty("outcome").GetString()));
    }

    [Fact]
    public async Task A_success_after_expiry_is_refunded_automatically()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        clock.Advance(TimeSpan.FromMinutes(1));
        await StatusCheckTests.RunChecksAsync(host);
        clock.Advance(TimeSpan.FromMinutes(29));
        await StatusCheckTests.RunChecksAsync(host);
        Assert.Equal("expired", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());

        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        Assert.Empty(await RunPipelineAsync(host));

        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("refunded", view.GetProperty("status").GetString());
        Assert.Contains("status.late_success", Api.TimelineKinds(view));
        var refund = Assert.Single(await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/refunds") ?? []);
        Assert.Contains("late success", refund.GetProperty("reason").GetString());
        Assert.False(view.TryGetProperty("fulfilment", out _)); // never delivered
        await VerifyLedgerAsync(client);
    }

    [Theory]
    [InlineData("fulfil.sent", 200)]
    [InlineData("fulfil.recorded", 200)]
    [InlineData("fulfil.sent", 422)]
    [InlineData("refund.gateway_accepted", 422)]
    [InlineData("compensate.refund_submitted", 422)]
    public async Task A_crash_at_a_step_boundary_resumes_without_a_second_fulfilment_or_refund(string boundary, int merchantAnswer)
    {
        var crash = new CrashOnce(boundary);
        var (host, clock) = await StartAsync(crash);
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        merchant.Answer(merchantAnswer, merchantAnswer);
        using var client = host.CreateClient();
        await UseFulfilmentEndpointAsync(client, merchant.Url);
        var order = await PaidOrderAsync(host, client);

        var crashes = await RunPipelineAsync(host);
        Assert.True(crash.Crashed);
        Assert.All(crashes, c => Assert.IsType<SimulatedCrashException>(c));
        clock.Advance(RunOrderTasks.Lease + TimeSpan.FromSeconds(1)); // the dead worker's lease runs out
        Assert.Empty(await RunPipelineAsync(host));
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty(await RunPipelineAsync(host));

        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Single(merchant.Requests.Select(r => r.WebhookId).Distinct());
        if (merchantAnswer == 200)
        {
            Assert.Equal("succeeded", view.GetProperty("status").GetString());
            Assert.Single(Api.TimelineKinds(view), k => k == "fulfilment.succeeded");
        }
        else
        {
            Assert.Equal("refunded", view.GetProperty("status").GetString());
            var sandboxRefunds = await host.Store.ListSandboxRefundsAsync(Api.SandboxOrderId(order), default);
            Assert.Single(sandboxRefunds);
            Assert.Single(await host.Store.ListRefundsAsync(Api.Id(order), default));
            Assert.Single(Api.TimelineKinds(view), k => k == "refund.succeeded");
        }
        await VerifyLedgerAsync(client);
    }

    [Fact]
    public async Task Fifty_concurrent_partial_refunds_never_exceed_what_was_paid()
    {
        var (host, _) = await StartAsync();
        using var client = host.CreateClient();
        var order = await PaidOrderAsync(host, client, amount: 10_000);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount = 300 }) };
            request.Headers.Add("Idempotency-Key", $"partial-{i}");
            using var response = await client.SendAsync(request);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })));

        Assert.Equal(33, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
            Assert.Contains("refund-exceeds-refundable", r.Body);
        });
        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal(9_900, view.GetProperty("amount_refunded").GetInt64());
        Assert.Equal("partially_refunded", view.GetProperty("status").GetString());
        Assert.Equal(9_900, (await host.Store.ListSandboxRefundsAsync(Api.SandboxOrderId(order), default)).Sum(r => r.Amount));
        var notices = await host.Store.ListOutboxMessagesAsync((await host.Store.GetOrderAsync(Api.Id(order), default))!.MerchantId, Api.Id(order), default);
        Assert.Equal(33, notices.Count(n => n.Topic == "order.partially_refunded"));
        await VerifyLedgerAsync(client);
    }

    [Fact]
    public async Task A_refund_request_repeated_with_its_key_returns_the_same_refund()
    {
        var (host, _) = await StartAsync();
        using var client = host.CreateClient();
        var order = await PaidOrderAsync(host, client);
        async Task<HttpResponseMessage> RefundAsync(object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "same-key");
            return await client.SendAsync(request);
        }
        using var first = await RefundAsync(new { amount = 1_000, reason = "damaged" });
        using var again = await RefundAsync(new { amount = 1_000, reason = "damaged" });
        using var different = await RefundAsync(new { amount = 2_000 });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(),
            (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        await Api.ProblemAsync(different, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(1_000, (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("amount_refunded").GetInt64());
    }

    [Fact]
    public async Task Bad_refunds_get_clear_problems_and_change_nothing()
    {
        var (host, _) = await StartAsync();
        using var client = host.CreateClient();
        var paid = await PaidOrderAsync(host, client, amount: 5_000);
        var unpaid = await Api.CreateOrderAsync(client);

        async Task ExpectAsync(string orderId, string? key, string body, HttpStatusCode status, string code)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{orderId}/refunds") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (key is not null)
            {
                request.Headers.Add("Idempotency-Key", key);
            }
            using var response = await client.SendAsync(request);
            await Api.ProblemAsync(response, status, code);
        }

        await ExpectAsync("ord_unknown", "k1", "{}", HttpStatusCode.NotFound, "not-found");
        await ExpectAsync(Api.Id(unpaid), "k2", "{}", HttpStatusCode.Conflict, "order-not-refundable");
        await ExpectAsync(Api.Id(unpaid), "k3", "{\"amount\":100}", HttpStatusCode.Conflict, "order-not-refundable");
        await ExpectAsync(Api.Id(paid), "k4", "{\"amount\":5001}", HttpStatusCode.UnprocessableEntity, "refund-exceeds-refundable");
        await ExpectAsync(Api.Id(paid), "k5", "{\"amount\":100,\"currency\":\"USD\"}", HttpStatusCode.UnprocessableEntity, "validation-failed");
        await ExpectAsync(Api.Id(paid), "k6", "{\"amount\":-1}", HttpStatusCode.UnprocessableEntity, "validation-failed");
        await ExpectAsync(Api.Id(paid), "k7", "{\"amount\":10.5}", HttpStatusCode.UnprocessableEntity, "validation-failed");
        await ExpectAsync(Api.Id(paid), "k8", "{\"amount\":", HttpStatusCode.BadRequest, "malformed-json");
        await ExpectAsync(Api.Id(paid), null, "{}", HttpStatusCode.BadRequest, "idempotency-key-required");
        Assert.Empty(await host.Store.ListRefundsAsync(Api.Id(paid), default));
        Assert.Equal(0, (await host.Store.GetOrderAsync(Api.Id(paid), default))!.AmountRefundReserved);

        using (var full = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(paid)}/refunds") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            full.Headers.Add("Idempotency-Key", "full");
            using var response = await client.SendAsync(full);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        await ExpectAsync(Api.Id(paid), "k9", "{}", HttpStatusCode.Conflict, "order-not-refundable"); // fully refunded
        await ExpectAsync(Api.Id(paid), "k10", "{\"amount\":1}", HttpStatusCode.Conflict, "order-not-refundable");
        await VerifyLedgerAsync(client);
    }

    [Fact]
    public async Task A_pending_refund_is_checked_until_final_and_a_failed_one_frees_the_amount_again()
    {
        var (host, clock) = await StartAsync();
        using var client = host.CreateClient();
        var order = await PaidOrderAsync(host, client, amount: 5_000);
        using (var behaviour = await host.CreateClient(authenticate: false).PostAsJsonAsync($"/sandbox/orders/{Api.SandboxOrderId(order)}/behaviour", new { refund = "pending:2:failed" }))
        {
            Assert.Equal(HttpStatusCode.OK, behaviour.StatusCode);
        }
        async Task<JsonElement> RefundAsync(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount = 5_000 }) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
        var refund = await RefundAsync("first");
        Assert.Equal("pending", refund.GetProperty("status").GetString());

        clock.Advance(TimeSpan.FromMinutes(1));
        await RunPipelineAsync(host);
        clock.Advance(TimeSpan.FromMinutes(5));
        await RunPipelineAsync(host);
        var failed = await client.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds/{refund.GetProperty("id").GetString()}");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("succeeded", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());

        using (var behaviour = await host.CreateClient(authenticate: false).PostAsJsonAsync($"/sandbox/orders/{Api.SandboxOrderId(order)}/behaviour", new { refund = "succeeded" }))
        {
            Assert.Equal(HttpStatusCode.OK, behaviour.StatusCode);
        }
        Assert.Equal("succeeded", (await RefundAsync("second")).GetProperty("status").GetString());
        Assert.Equal("refunded", (await Api.GetOrderAsync(client, Api.Id(order))).GetProperty("status").GetString());
        await VerifyLedgerAsync(client);
    }

    [Fact]
    public async Task The_books_balance_after_a_randomized_run_of_a_thousand_payments()
    {
        var (host, _) = await StartAsync();
        using var client = host.CreateClient();
        var random = new Random(20261124);
        var plans = Enumerable.Range(0, 1000).Select(_ => (Outcome: random.Next(10), Webhook: random.Next(4), Refund: random.Next(10), Amount: random.Next(100, 100_000))).ToList();
        var expectedPaid = 0L;
        var expectedRefunded = 0L;
        var gate = new SemaphoreSlim(8);
        var results = await Task.WhenAll(plans.Select(async plan =>
        {
            await gate.WaitAsync();
            try
            {
                var order = await Api.CreateOrderAsync(client, amount: plan.Amount);
                var outcome = plan.Outcome switch { < 6 => "success", < 9 => "failure", _ => "pending" };
                var webhook = plan.Webhook switch { 0 => "duplicate", 1 => "out_of_order", _ => "normal" };
                await Api.CompleteCheckoutAsync(host, order, outcome, webhook);
                var final = await Api.WaitForOrderAsync(client, Api.Id(order),
                    o => o.GetProperty("status").GetString() == (outcome switch { "success" => "succeeded", "failure" => "failed", _ => "pending" }), outcome);
                long refunded = 0;
                if (outcome == "success" && plan.Refund < 4)
                {
                    var amount = plan.Refund < 2 ? plan.Amount : plan.Amount / 3;
                    for (var repeat = 0; repeat < 2; repeat++) // the second is a duplicate request
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount }) };
                        request.Headers.Add("Idempotency-Key", "refund-" + Api.Id(order));
                        using var response = await client.SendAsync(request);
                        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                    }
                    refunded = amount;
                }
                return (Paid: outcome == "success" ? (long)plan.Amount : 0, Refunded: refunded);
            }
            finally
            {
                gate.Release();
            }
        }));
        expectedPaid = results.Sum(r => r.Paid);
        expectedRefunded = results.Sum(r => r.Refunded);
        Assert.Empty(await RunPipelineAsync(host));

        var verification = await VerifyLedgerAsync(client);
        Assert.True(verification.GetProperty("orders_checked").GetInt32() >= 1000);
        var entries = await host.Store.ListLedgerEntriesAsync(null, null, default);
        Assert.Equal(expectedPaid, entries.Where(e => e.Kind == "capture" && e.Amount > 0).Sum(e => e.Amount));
        Assert.Equal(expectedRefunded, entries.Where(e => e.Kind == "refund" && e.Amount > 0).Sum(e => e.Amount));
        Assert.Equal(0, entries.Sum(e => e.Amount));
    }
}

[Collection(ServerCollection.Name)]
public sealed class PipelineOnSqlite(ServerEnvironment environment) : PipelineTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class PipelineOnPostgres(ServerEnvironment environment) : PipelineTests(environment, StoreKind.Postgres);
