using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Idempotency-Key semantics of <c>POST /v1/orders</c>.</summary>
public abstract class IdempotencyTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    [Fact]
    public async Task The_same_key_and_body_replays_the_first_response_byte_for_byte()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var body = Api.OrderBody(Api.NewReceipt());
        using var first = await Api.PostOrderAsync(client, body, "key-" + Guid.NewGuid());
        var key = first.RequestMessage!.Headers.GetValues("Idempotency-Key").Single();
        using var second = await Api.PostOrderAsync(client, body, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task Whitespace_and_key_order_do_not_make_a_body_different()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var receipt = Api.NewReceipt();
        var key = "key-" + Guid.NewGuid();
        using var first = await Api.PostOrderAsync(client, $"{{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"{receipt}\",\"customer\":{{\"id\":\"c\"}}}}", key);
        using var second = await Api.PostOrderAsync(client, $"{{ \"customer\": {{ \"id\": \"c\" }}, \"receipt\": \"{receipt}\", \"currency\": \"INR\", \"amount\": 100 }}", key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_finished_request_replays_its_reply_even_when_routing_would_now_refuse_the_order()
    {
        var host = await Environment.StartExtraHostAsync(kind, null);
        using var client = host.CreateClient();
        var body = Api.OrderBody(Api.NewReceipt());
        var key = "key-" + Guid.NewGuid();
        using var first = await Api.PostOrderAsync(client, body, key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // From now on no rule matches an INR order: a new order is refused ...
        using (var rules = await client.PutAsync("/v1/merchant/settings", new StringContent(
                   """{"gateways":["sandbox"],"routing":[{"gateway":"sandbox","currencies":["USD"]}]}""", System.Text.Encoding.UTF8, "application/json")))
        {
            rules.EnsureSuccessStatusCode();
        }
        using (var refused = await Api.PostOrderAsync(client, Api.OrderBody(Api.NewReceipt()), "key-" + Guid.NewGuid()))
        {
            await Api.ProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "validation-failed");
        }

        // ... but the retry of the finished one gets its stored reply: the key is looked at before routing.
        using var retry = await Api.PostOrderAsync(client, body, key);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_new_key_is_claimed_with_its_order_and_only_a_retry_looks_the_key_up_first()
    {
        var host = await Environment.HostAsync(kind);
        using var scope = host.Services.CreateScope();
        var merchantId = (await scope.ServiceProvider.GetRequiredService<Application.Merchants.AuthenticateApiKey>().HandleAsync(host.DemoSecretKey, default))!.MerchantId;
        var request = Application.Orders.CreateOrder.CreateOrderRequest.Parse(System.Text.Encoding.UTF8.GetBytes(Api.OrderBody(Api.NewReceipt()))).Value!;
        var key = "key-" + Guid.NewGuid();
        // The real store, noting whether the careful path's key lookup ran.
        var lookedUp = false;
        Application.Abstractions.IClearflowStore Noting() => CallHook<Application.Abstractions.IClearflowStore>.Before(host.Store,
            nameof(Application.Abstractions.IClearflowStore.BeginIdempotentAsync), () => { lookedUp = true; return Task.CompletedTask; });

        var first = await ActivatorUtilities.CreateInstance<Application.Orders.CreateOrder.CreateOrder>(scope.ServiceProvider, Noting())
            .HandleAsync(new Application.Orders.CreateOrder.CreateOrder.Caller(merchantId, null), key, request, default);
        Assert.Equal((201, false, false), (first.Value!.StatusCode, first.Value.Replayed, lookedUp));

        var retry = await ActivatorUtilities.CreateInstance<Application.Orders.CreateOrder.CreateOrder>(scope.ServiceProvider, Noting())
            .HandleAsync(new Application.Orders.CreateOrder.CreateOrder.Caller(merchantId, null), key, request, default);
        Assert.Equal((first.Value.Body, true, true), (retry.Value!.Body, retry.Value.Replayed, lookedUp));
    }

    [Fact]
    public async Task A_finished_request_replays_its_reply_even_when_the_gateway_cannot_be_resolved_now()
    {
        // A fault in resolving the gateway (stored credentials that cannot be opened, say after a botched key rotation),
        // from the moment it is switched on: the first resolution of each request throws.
        var broken = false;
        var host = await Environment.StartExtraHostAsync(kind, services => services.AddTransient<Application.Abstractions.IGatewayRegistry>(sp =>
            CallHook<Application.Abstractions.IGatewayRegistry>.Before(ActivatorUtilities.CreateInstance<Gateways.GatewayRegistry>(sp),
                nameof(Application.Abstractions.IGatewayRegistry.ResolveAsync),
                () => broken ? throw new System.Security.Cryptography.CryptographicException("The key that sealed these credentials is missing.") : Task.CompletedTask)));
        using var client = host.CreateClient();
        var body = Api.OrderBody(Api.NewReceipt());
        var key = "key-" + Guid.NewGuid();
        using var first = await Api.PostOrderAsync(client, body, key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        broken = true;
        using var retry = await Api.PostOrderAsync(client, body, key);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        using var reused = await Api.PostOrderAsync(client, Api.OrderBody(Api.NewReceipt()), key);
        await Api.ProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_refused_with_422()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var receipt = Api.NewReceipt();
        var key = "key-" + Guid.NewGuid();
        using var first = await Api.PostOrderAsync(client, Api.OrderBody(receipt, amount: 100), key);
        using var second = await Api.PostOrderAsync(client, Api.OrderBody(receipt, amount: 200), key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await Api.ProblemAsync(second, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
    }

    [Fact]
    public async Task A_concurrent_request_with_the_same_key_gets_409_and_the_first_still_completes_once()
    {
        var gate = new GatewayGate { Hold = true };
        var host = await Environment.StartExtraHostAsync(kind, services => GatewayGate.Install(services, gate));
        using var client = host.CreateClient();
        var body = Api.OrderBody(Api.NewReceipt());
        const string key = "concurrent-key";

        var firstTask = Api.PostOrderAsync(client, body, key);
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));   // the first request is inside the gateway call now
        using (var concurrent = await Api.PostOrderAsync(client, body, key))
        {
            await Api.ProblemAsync(concurrent, HttpStatusCode.Conflict, "idempotency-key-in-use");
        }
        gate.Release.SetResult();
        using var first = await firstTask;
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var after = await Api.PostOrderAsync(client, body, key);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await after.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_gateway_outage_answers_503_and_a_retry_with_the_same_key_continues_the_same_order()
    {
        var gate = new GatewayGate { FailCreates = 1 };
        var host = await Environment.StartExtraHostAsync(kind, services => GatewayGate.Install(services, gate));
        using var client = host.CreateClient();
        var receipt = Api.NewReceipt();
        var body = Api.OrderBody(receipt);
        const string key = "outage-key";

        using (var failed = await Api.PostOrderAsync(client, body, key))
        {
            var problem = await Api.ProblemAsync(failed, HttpStatusCode.ServiceUnavailable, "gateway-unavailable");
            Assert.Contains("retry with the same Idempotency-Key", problem.GetProperty("detail").GetString());
        }
        using var retried = await Api.PostOrderAsync(client, body, key);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        var order = await retried.Content.ReadFromJsonAsync<JsonElement>();

        var stored = await host.Store.FindOrderByReceiptAsync((await host.Store.FindMerchantByNameAsync("Demo Shop", default))!.Id, receipt, default);
        Assert.Equal(stored!.Id, Api.Id(order));
        var timeline = Api.TimelineKinds(await Api.GetOrderAsync(client, Api.Id(order)));
        Assert.Equal(["order.created", "gateway.unavailable", "gateway.payment_created"], timeline);
    }

    [Fact]
    public async Task A_receipt_used_by_another_order_is_a_409()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var receipt = Api.NewReceipt();
        var order = await Api.CreateOrderAsync(client, receipt);
        using var second = await Api.PostOrderAsync(client, Api.OrderBody(receipt), "another-key-" + Guid.NewGuid());
        var problem = await Api.ProblemAsync(second, HttpStatusCode.Conflict, "receipt-already-used");
        Assert.Contains(Api.Id(order), problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_request_without_an_idempotency_key_is_refused_and_creates_nothing()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var receipt = Api.NewReceipt();
        using var response = await Api.PostOrderAsync(client, Api.OrderBody(receipt), idempotencyKey: null);
        await Api.ProblemAsync(response, HttpStatusCode.BadRequest, "idempotency-key-required");
        var merchant = await host.Store.FindMerchantByNameAsync("Demo Shop", default);
        Assert.Null(await host.Store.FindOrderByReceiptAsync(merchant!.Id, receipt, default));
    }
}

[Collection(ServerCollection.Name)]
public sealed class IdempotencyOnSqlite(ServerEnvironment environment) : IdempotencyTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class IdempotencyOnPostgres(ServerEnvironment environment) : IdempotencyTests(environment, StoreKind.Postgres);
