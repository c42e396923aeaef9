using System.Text.Json;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Server-sent events of an order's status, read the way a browser's EventSource reads them.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream);

    public async Task<(string Event, JsonElement Data)> NextAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        string? name = null, data = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(limit.Token) ?? throw new EndOfStreamException("The stream ended.");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
            else if (line.Length == 0 && name is not null)
            {
                return (name, JsonDocument.Parse(data ?? "{}").RootElement.Clone());
            }
        }
    }

    public void Dispose() => _reader.Dispose();
}

public abstract class LiveStatusTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    public static async Task<(HttpResponseMessage Response, SseReader Reader)> OpenAsync(ClearflowTestHost host, JsonElement order)
    {
        var client = host.CreateClient(authenticate: false);
        var secret = order.GetProperty("client_secret").GetString()!;
        var response = await client.GetAsync($"/v1/orders/{Api.Id(order)}/events?client_secret={Uri.EscapeDataString(secret)}", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return (response, new SseReader(await response.Content.ReadAsStreamAsync()));
    }

    [Fact]
    public async Task A_client_on_the_event_stream_sees_each_change_and_the_final_status_then_the_end()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var (response, events) = await OpenAsync(host, order);
        using (response)
        using (events)
        {
            var first = await events.NextAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(("status", "created"), (first.Event, first.Data.GetProperty("status").GetString()));

            await Api.CompleteCheckoutAsync(host, order, "pending");
            Assert.Equal("pending", (await events.NextAsync(TimeSpan.FromSeconds(10))).Data.GetProperty("status").GetString());
            await Api.CompleteCheckoutAsync(host, order, "success");
            var final = await events.NextAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("succeeded", final.Data.GetProperty("status").GetString());
            Assert.True(final.Data.GetProperty("is_final").GetBoolean());
            Assert.Equal("end", (await events.NextAsync(TimeSpan.FromSeconds(5))).Event);
        }
    }

    [Fact]
    public async Task Without_the_orders_client_secret_there_is_no_stream()
    {
        var host = await Environment.HostAsync(kind);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        var other = await Api.CreateOrderAsync(client);
        using var anonymous = host.CreateClient(authenticate: false);
        using var response = await anonymous.GetAsync($"/v1/orders/{Api.Id(order)}/events?client_secret={Uri.EscapeDataString(other.GetProperty("client_secret").GetString()!)}");
        await Api.ProblemAsync(response, System.Net.HttpStatusCode.NotFound, "not-found");
        using var none = await anonymous.GetAsync($"/v1/orders/{Api.Id(order)}/events");
        await Api.ProblemAsync(none, System.Net.HttpStatusCode.Unauthorized, "unauthenticated");
    }
}

[Collection(ServerCollection.Name)]
public sealed class LiveStatusOnSqlite(ServerEnvironment environment) : LiveStatusTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class LiveStatusOnPostgres(ServerEnvironment environment) : LiveStatusTests(environment, StoreKind.Postgres);

[Collection(ServerCollection.Name)]
public sealed class LiveStatusAcrossNodes(ServerEnvironment environment) : ServerTest(environment)
{
    [Fact]
    public async Task A_change_committed_on_one_node_reaches_a_stream_on_another_within_a_second()
    {
        var database = await Environment.NewDatabaseAsync(StoreKind.Postgres);
        var nodeA = await Environment.StartOnDatabaseAsync(database, null);
        var nodeB = await Environment.StartOnDatabaseAsync(database, null);
        using var client = nodeA.CreateClient();
        var order = await Api.CreateOrderAsync(client);

        var (response, events) = await LiveStatusTests.OpenAsync(nodeB, order); // the customer's browser is on node B
        using (response)
        using (events)
        {
            Assert.Equal("created", (await events.NextAsync(TimeSpan.FromSeconds(10))).Data.GetProperty("status").GetString());
            await Api.CompleteCheckoutAsync(nodeA, order, "success"); // the gateway's webhook goes to node A
            await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
            var final = await events.NextAsync(TimeSpan.FromSeconds(1));
            Assert.Equal("succeeded", final.Data.GetProperty("status").GetString());
        }
    }
}
