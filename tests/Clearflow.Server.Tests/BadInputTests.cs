using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clearflow.Gateways.Sandbox;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Every bad input gets a clear problem and changes nothing.</summary>
public abstract class BadInputTests(ServerEnvironment environment, StoreKind kind)
{
    public static TheoryData<string, string, int, string, string?> BadOrders => new()
    {
        // name, body (RECEIPT is replaced), status, code, field named in errors
        { "not json", "{\"amount\": 100,", 400, "malformed-json", null },
        { "not an object", "[1,2]", 400, "malformed-json", null },
        { "amount missing", "{\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount zero", "{\"amount\":0,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount negative", "{\"amount\":-5,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount overflows int64", "{\"amount\":18446744073709551616,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount above 2^53-1", "{\"amount\":9007199254740992,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount with decimals", "{\"amount\":10.5,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount in exponent form", "{\"amount\":1e3,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "amount as string", "{\"amount\":\"100\",\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "amount" },
        { "unknown currency", "{\"amount\":100,\"currency\":\"XYZ\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "currency" },
        { "currency as number", "{\"amount\":100,\"currency\":356,\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "currency" },
        { "receipt too long", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT-0123456789012345678901234567890123456789\",\"customer\":{\"id\":\"c\"}}", 422, "validation-failed", "receipt" },
        { "customer missing", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT\"}", 422, "validation-failed", "customer" },
        { "customer email invalid", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\",\"email\":\"nope\"}}", 422, "validation-failed", "customer.email" },
        { "customer phone invalid", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\",\"phone\":\"call me\"}}", 422, "validation-failed", "customer.phone" },
        { "metadata not an object", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"},\"metadata\":[1]}", 422, "validation-failed", "metadata" },
        { "return url not http", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"},\"return_url\":\"javascript:alert(1)\"}", 422, "validation-failed", "return_url" },
        { "gateway not enabled", "{\"amount\":100,\"currency\":\"INR\",\"receipt\":\"RECEIPT\",\"customer\":{\"id\":\"c\"},\"gateway\":\"paypal\"}", 422, "validation-failed", "gateway" },
    };

    [Theory]
    [MemberData(nameof(BadOrders))]
    public async Task A_bad_order_body_gets_a_problem_naming_the_field_and_creates_nothing(string name, string body, int status, string code, string? field)
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var receipt = "bad-" + Guid.NewGuid().ToString("N")[..12];
        using var response = await Api.PostOrderAsync(client, body.Replace("RECEIPT", receipt, StringComparison.Ordinal), Guid.NewGuid().ToString());

        var problem = await Api.ProblemAsync(response, (HttpStatusCode)status, code);
        if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"{name}: errors should name {field}: {problem}");
            Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));
        }
        var merchant = await host.Store.FindMerchantByNameAsync("Demo Shop", default);
        Assert.Null(await host.Store.FindOrderByReceiptAsync(merchant!.Id, receipt, default));
    }

    [Fact]
    public async Task An_oversized_body_is_413()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var body = Api.OrderBody(Api.NewReceipt()).Replace("\"sku\":\"mug\"", "\"sku\":\"" + new string('x', 70_000) + "\"", StringComparison.Ordinal);
        using var response = await Api.PostOrderAsync(client, body, Guid.NewGuid().ToString());
        await Api.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body-too-large");
    }

    [Fact]
    public async Task An_oversized_body_without_a_length_is_413_and_a_small_one_is_read_whole()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        // Chunked: no Content-Length to refuse early, so the limit is met while reading.
        async Task<HttpResponseMessage> PostChunkedAsync(string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders")
            {
                Content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(body))),
            };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TransferEncodingChunked = true;
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            return await client.SendAsync(request);
        }
        var oversized = Api.OrderBody(Api.NewReceipt()).Replace("\"sku\":\"mug\"", "\"sku\":\"" + new string('x', 70_000) + "\"", StringComparison.Ordinal);
        using (var response = await PostChunkedAsync(oversized))
        {
            await Api.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        }
        using var created = await PostChunkedAsync(Api.OrderBody(Api.NewReceipt()));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    /// <summary>A body stream whose length HttpClient cannot know, so the request goes chunked.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    // ---- webhooks ----

    /// <summary>Signs like the sandbox documents it, written here independently of the production code.</summary>
    private static string Sign(string secret, long timestamp, byte[] body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes($"{timestamp}."), .. body]));

    private static byte[] EventBody(string eventId, string sandboxOrderId, string orderId, string status, long amount) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            id = eventId, type = "payment." + status, created_at = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            data = new { order_id = sandboxOrderId, payment_id = "pay_x", merchant_reference = orderId, status, amount, currency = "INR" },
        }));

    private static async Task<HttpResponseMessage> PostWebhookAsync(ClearflowTestHost host, byte[] body, string? signature, long timestamp, string gateway = "sandbox")
    {
        using var client = host.CreateClient(authenticate: false);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/gateways/{gateway}/webhooks") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add(SandboxProtocol.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (signature is not null)
        {
            request.Headers.Add(SandboxProtocol.SignatureHeader, signature);
        }
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Unsigned_tampered_wrongly_keyed_and_replayed_webhooks_are_refused_and_change_nothing()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var secret = await host.Store.GetOrAddSettingAsync(SandboxProtocol.WebhookSecretSetting, "unused", default);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = EventBody("evt-" + Guid.NewGuid(), Api.SandboxOrderId(order), Api.Id(order), "succeeded", 49_900);

        using (var unsigned = await PostWebhookAsync(host, body, null, now))
        {
            await Api.ProblemAsync(unsigned, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
            Assert.Empty(unsigned.Headers.WwwAuthenticate); // no credential sent another way would help
        }
        using (var wrongKey = await PostWebhookAsync(host, body, Sign("whsec_not_ours", now, body), now))
        {
            await Api.ProblemAsync(wrongKey, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("49900", "100", StringComparison.Ordinal));
        using (var tamperedResponse = await PostWebhookAsync(host, tampered, Sign(secret, now, body), now))
        {
            await Api.ProblemAsync(tamperedResponse, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        var old = now - 600;
        using (var replayed = await PostWebhookAsync(host, body, Sign(secret, old, body), old))
        {
            var problem = await Api.ProblemAsync(replayed, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
            Assert.Contains("replay", problem.GetProperty("detail").GetString());
        }

        await Task.Delay(300);
        var after = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal("created", after.GetProperty("status").GetString());
        Assert.DoesNotContain("webhook.received", Api.TimelineKinds(after));
    }

    [Fact]
    public async Task A_correctly_signed_webhook_sent_again_is_acknowledged_as_a_duplicate_and_applied_once()
    {
        var host = await environment.HostAsync(kind);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var secret = await host.Store.GetOrAddSettingAsync(SandboxProtocol.WebhookSecretSetting, "unused", default);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = EventBody("evt-" + Guid.NewGuid(), Api.SandboxOrderId(order), Api.Id(order), "failed", 49_900);

        using var first = await PostWebhookAsync(host, body, Sign(secret, now, body), now);
        using var again = await PostWebhookAsync(host, body, Sign(secret, now + 1, body), now + 1);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False(JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("duplicate").GetBoolean());
        Assert.True(JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("duplicate").GetBoolean());

        var final = await Api.WaitForStatusAsync(client, Api.Id(order), "failed");
        Assert.Single(Api.TimelineKinds(final), k => k == "webhook.received");
    }

    [Fact]
    public async Task A_signed_webhook_that_is_not_an_event_is_400_and_an_unknown_gateway_is_404()
    {
        var host = await environment.HostAsync(kind);
        var secret = await host.Store.GetOrAddSettingAsync(SandboxProtocol.WebhookSecretSetting, "unused", default);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var garbage = Encoding.UTF8.GetBytes("not json at all");
        using (var malformed = await PostWebhookAsync(host, garbage, Sign(secret, now, garbage), now))
        {
            await Api.ProblemAsync(malformed, HttpStatusCode.BadRequest, "webhook-malformed");
        }
        using var unknown = await PostWebhookAsync(host, garbage, Sign(secret, now, garbage), now, gateway: "paypal");
        await Api.ProblemAsync(unknown, HttpStatusCode.NotFound, "not-found");
    }
}

[Collection(ServerCollection.Name)]
public sealed class BadInputOnSqlite(ServerEnvironment environment) : BadInputTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class BadInputOnPostgres(ServerEnvironment environment) : BadInputTests(environment, StoreKind.Postgres);
