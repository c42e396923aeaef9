using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Gateways.Sandbox;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>What a merchant backend, a customer and the sandbox do, as HTTP calls.</summary>
public static class Api
{
    public static string NewReceipt() => "r-" + Guid.NewGuid().ToString("N")[..20];

    public static string OrderBody(string receipt, long amount = 49_900, string currency = "INR", string? returnUrl = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["amount"] = amount,
            ["currency"] = currency,
            ["receipt"] = receipt,
            ["customer"] = new { id = "cust-1", email = "asha@example.com", phone = "+919876543210", name = "Asha" },
            ["metadata"] = new Dictionary<string, string> { ["sku"] = "mug" },
            ["return_url"] = returnUrl,
        });

    public static async Task<HttpResponseMessage> PostOrderAsync(HttpClient client, string body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await client.SendAsync(request);
    }

    /// <summary>Creates an order and returns its 201 body.</summary>
    public static async Task<JsonElement> CreateOrderAsync(HttpClient client, string? receipt = null, long amount = 49_900, string? returnUrl = null)
    {
        using var response = await PostOrderAsync(client, OrderBody(receipt ?? NewReceipt(), amount, returnUrl: returnUrl), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static string SandboxOrderId(JsonElement order) => order.GetProperty("checkout").GetProperty("sandbox_order_id").GetString()!;

    public static string Id(JsonElement order) => order.GetProperty("id").GetString()!;

    /// <summary>The customer (or a script) finishing the sandbox checkout; returns the signed return URL.</summary>
    public static async Task<string> CompleteCheckoutAsync(ClearflowTestHost host, JsonElement order, string outcome, string? webhook = null, long? reportAmount = null)
    {
        using var client = host.CreateClient(authenticate: false);
        using var response = await client.PostAsJsonAsync($"/sandbox/checkout/{SandboxOrderId(order)}/complete",
            new Dictionary<string, object?> { ["outcome"] = outcome, ["webhook"] = webhook, ["report_amount"] = reportAmount });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("redirect_url").GetString()!;
    }

    public static async Task<JsonElement> GetOrderAsync(HttpClient client, string orderId)
    {
        using var response = await client.GetAsync($"/v1/orders/{orderId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Polls until <paramref name="done"/> holds, as the customer's Processing screen does; fails after 20 s.</summary>
    public static Task<JsonElement> WaitForOrderAsync(HttpClient client, string orderId, Func<JsonElement, bool> done, string what) =>
        PollAsync(() => GetOrderAsync(client, orderId), done, order => $"Order {orderId} did not reach '{what}' in 20 s; last seen: {order}");

    /// <summary>
    /// Reads until <paramref name="done"/> holds of what was read, and returns that; after 20 s fails with
    /// <paramref name="failure"/> of the last read. The one polling loop of the suite.
    /// </summary>
    public static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, Func<T, string> failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var last = await read();
            if (done(last))
            {
                return last;
            }
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail(failure(last));
            }
            await Task.Delay(100);
        }
    }

    public static Task<JsonElement> WaitForStatusAsync(HttpClient client, string orderId, string status) =>
        WaitForOrderAsync(client, orderId, o => o.GetProperty("status").GetString() == status, status);

    public static IEnumerable<string> TimelineKinds(JsonElement order) =>
        order.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!);

    /// <summary>The order's status moves as its timeline words them ("pending -> succeeded: ..."), oldest first.</summary>
    public static List<string> StatusMoves(JsonElement order) =>
        [.. order.GetProperty("timeline").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "status.changed")
            .Select(e => e.GetProperty("message").GetString()!)];

    /// <summary>The sandbox's record of webhooks sent for an order, with the status codes Clearflow answered.</summary>
    public static async Task<JsonElement[]> SandboxWebhooksAsync(ClearflowTestHost host, JsonElement order)
    {
        using var client = host.CreateClient(authenticate: false);
        var apiKey = await host.Store.GetOrAddSettingAsync(SandboxProtocol.ApiKeySetting, "unused", CancellationToken.None);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return await client.GetFromJsonAsync<JsonElement[]>($"/sandbox/api/orders/{SandboxOrderId(order)}/webhooks") ?? [];
    }

    /// <summary>Waits until the sandbox has finished sending (delivered or given up on) every webhook of the order.</summary>
    public static Task<JsonElement[]> WaitForWebhooksAnsweredAsync(ClearflowTestHost host, JsonElement order, int count, Func<JsonElement, bool> answered) =>
        PollAsync(() => SandboxWebhooksAsync(host, order), webhooks => webhooks.Length == count && webhooks.All(answered),
            webhooks => $"Sandbox webhooks not answered as expected in 20 s: {JsonSerializer.Serialize(webhooks)}");

    /// <summary>Clearflow answered the delivery (fields without a value are left out of the JSON).</summary>
    public static bool WasAnswered(JsonElement webhook) => webhook.TryGetProperty("last_status_code", out _);

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("urn:clearflow:problem:" + code, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
