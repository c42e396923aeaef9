using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clearflow.Application.Merchants;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Who may read and write what.</summary>
public abstract class AccessTests(ServerEnvironment environment, StoreKind kind)
{
    private static async Task<string> NewMerchantKeyAsync(ClearflowTestHost host)
    {
        using var scope = host.Services.CreateScope();
        var merchant = await scope.ServiceProvider.GetRequiredService<CreateMerchant>().HandleAsync("Other " + Guid.NewGuid().ToString("N")[..8], default);
        var key = await scope.ServiceProvider.GetRequiredService<IssueApiKey>().HandleAsync(merchant.Value!.Id, "test", default);
        return key.Value!.SecretKey;
    }

    [Fact]
    public async Task One_merchant_cannot_read_another_merchants_order()
    {
        var host = await environment.HostAsync(kind);
        using var demo = host.CreateClient();
        var order = await Api.CreateOrderAsync(demo);
        using var other = host.CreateClient(await NewMerchantKeyAsync(host));

        using var response = await other.GetAsync($"/v1/orders/{Api.Id(order)}");
        await Api.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");

        // ...and its own orders are its own.
        var own = await Api.CreateOrderAsync(other);
        Assert.Equal(Api.Id(own), Api.Id(await Api.GetOrderAsync(other, Api.Id(own))));
        using var demoReadsOther = await demo.GetAsync($"/v1/orders/{Api.Id(own)}");
        await Api.ProblemAsync(demoReadsOther, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_client_secret_reads_its_own_order_without_customer_data_and_nothing_else()
    {
        var host = await environment.HostAsync(kind);
        using var merchant = host.CreateClient();
        var order = await Api.CreateOrderAsync(merchant);
        var otherOrder = await Api.CreateOrderAsync(merchant);
        var secret = order.GetProperty("client_secret").GetString()!;
        using var app = host.CreateClient(secret);

        var view = await Api.GetOrderAsync(app, Api.Id(order));
        Assert.Equal("created", view.GetProperty("status").GetString());
        Assert.False(view.TryGetProperty("customer", out _));
        Assert.False(view.TryGetProperty("metadata", out _));

        using var anonymous = host.CreateClient(authenticate: false);
        var viaQuery = await anonymous.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}?client_secret={Uri.EscapeDataString(secret)}");
        Assert.Equal(Api.Id(order), Api.Id(viaQuery));

        using var foreign = await app.GetAsync($"/v1/orders/{Api.Id(otherOrder)}");
        await Api.ProblemAsync(foreign, HttpStatusCode.NotFound, "not-found");
        using var create = await Api.PostOrderAsync(app, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString());
        await Api.ProblemAsync(create, HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory]
    [InlineData("sk_test_wrongwrongwrongwrongwrongwrong")]
    [InlineData("sk_test_short")]
    [InlineData("not-a-key")]
    public async Task A_wrong_key_is_401_and_creates_nothing(string key)
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient(key);
        var receipt = Api.NewReceipt();
        using var response = await Api.PostOrderAsync(client, Api.OrderBody(receipt), Guid.NewGuid().ToString());
        await Api.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        var merchant = await host.Store.FindMerchantByNameAsync("Demo Shop", default);
        Assert.Null(await host.Store.FindOrderByReceiptAsync(merchant!.Id, receipt, default));
    }

    [Fact]
    public async Task No_credentials_is_401_with_a_hint()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient(authenticate: false);
        using var response = await client.GetAsync("/v1/orders/ord_anything");
        var problem = await Api.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Contains("Bearer", problem.GetProperty("detail").GetString());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task The_sandbox_gateway_s_api_without_its_key_is_401_with_a_bearer_challenge()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient(authenticate: false);
        using var response = await client.GetAsync("/sandbox/api/orders/sbx_ord_anything");
        await Api.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task An_unknown_order_id_is_404()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        using var response = await client.GetAsync("/v1/orders/ord_doesnotexist");
        await Api.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }
}

[Collection(ServerCollection.Name)]
public sealed class AccessOnSqlite(ServerEnvironment environment) : AccessTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class AccessOnPostgres(ServerEnvironment environment) : AccessTests(environment, StoreKind.Postgres);
