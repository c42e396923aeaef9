using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Merchants;
using Clearflow.Application.Refunds;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// A Clearflow host whose real-gateway connectors point at local fakes, with one merchant that has the
/// gateway enabled as its default; workers off and a fake clock, so tests drive checks themselves.
/// </summary>
public sealed record GatewayHost(ClearflowTestHost Host, FakeTimeProvider Clock, HttpClient Client, string MerchantId) : IDisposable
{
    public static async Task<GatewayHost> StartAsync(ServerEnvironment environment, StoreKind kind, string gateway, IReadOnlyDictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var all = StatusCheckTests.Workers();
        foreach (var (name, value) in settings)
        {
            all[name] = value;
        }
        var host = await environment.StartExtraHostAsync(kind, s => s.AddSingleton<TimeProvider>(clock), all);
        using var scope = host.Services.CreateScope();
        var merchant = (await scope.ServiceProvider.GetRequiredService<CreateMerchant>().HandleAsync($"{gateway} {Guid.NewGuid():N}"[..20], default)).Value!;
        var key = (await scope.ServiceProvider.GetRequiredService<IssueApiKey>().HandleAsync(merchant.Id, "test", default)).Value!.SecretKey;
        var client = host.CreateClient(key);
        using (var put = await client.PutAsync("/v1/merchant/settings",
                   new StringContent($$"""{"gateways":["sandbox","{{gateway}}"],"default_gateway":"{{gateway}}"}""", Encoding.UTF8, "application/json")))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        return new GatewayHost(host, clock, client, merchant.Id);
    }

    public Uri WebhookUrl(string gateway) => new(Host.BaseAddress, $"/v1/gateways/{gateway}/webhooks/{MerchantId}");

    public async Task PutCredentialsAsync(string gateway, Dictionary<string, string> fields)
    {
        using var put = await Client.PutAsync($"/v1/merchant/gateways/{gateway}/credentials",
            new StringContent(JsonSerializer.Serialize(fields), Encoding.UTF8, "application/json"));
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
    }

    public async Task<HttpResponseMessage> TestConnectionAsync(string gateway) => await Client.PostAsync($"/v1/merchant/gateways/{gateway}/test", null);

    /// <summary>Creates an order with a customer who has a phone and an email (some gateways require them).</summary>
    public async Task<JsonElement> CreateOrderAsync(long amount = 49_900)
    {
        using var response = await Api.PostOrderAsync(Client, Api.OrderBody(Api.NewReceipt(), amount), Guid.NewGuid().ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement;
    }

    public async Task<JsonElement> RefundAsync(string orderId, long amount, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{orderId}/refunds") { Content = JsonContent.Create(new { amount }) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Lets time pass and runs refund checks, round by round (fakes answer "pending" to a refund's first fetch).</summary>
    public async Task RunRefundChecksAsync()
    {
        for (var round = 0; round < 3; round++)
        {
            Clock.Advance(TimeSpan.FromMinutes(30));
            using var scope = Host.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<RunDueRefundChecks>().HandleAsync(50, default);
        }
    }

    public async Task RecheckAsync(string orderId)
    {
        using var scope = Host.Services.CreateScope();
        Assert.True((await scope.ServiceProvider.GetRequiredService<Application.Checks.RecheckOrder>().HandleAsync(MerchantId, orderId, default)).IsSuccess);
    }

    public Task<JsonElement> WaitForStatusAsync(string orderId, string status) =>
        Api.WaitForOrderAsync(Client, orderId, o => o.GetProperty("status").GetString() == status, status);

    public void Dispose() => Client.Dispose();
}
