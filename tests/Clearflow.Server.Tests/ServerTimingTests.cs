using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The opt-in Server-Timing header: a request's waits on the database and on outgoing HTTP calls.</summary>
public abstract partial class ServerTimingTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    [Fact]
    public async Task When_turned_on_a_created_order_says_how_long_it_waited_on_the_database_and_the_gateway()
    {
        var settings = StatusCheckTests.Workers();
        settings[Http.ServerTiming.Setting] = "true";
        var host = await Environment.StartExtraHostAsync(kind, null, settings);
        using var client = host.CreateClient();

        // The first order reads the merchant into this host's cache; the second is every later order.
        (await Api.PostOrderAsync(client, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString())).Dispose();
        using var response = await Api.PostOrderAsync(client, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var timing = Assert.Single(response.Headers.GetValues("Server-Timing"));
        var parts = Part().Matches(timing).ToDictionary(m => m.Groups["name"].Value, m => (
            Ms: double.Parse(m.Groups["dur"].Value, CultureInfo.InvariantCulture), Count: int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture)));
        var total = double.Parse(Total().Match(timing).Groups["dur"].Value, CultureInfo.InvariantCulture);

        // One call to the sandbox gateway over HTTP; on PostgreSQL two commands of this request: the Idempotency-Key
        // claimed with the order (ADR 18), with the API key the node knows from the first order checked in it (ADR 22),
        // and the attempt with the reply; a third, the merchant's read, when the node's merchant cache (2 s) has let it
        // go since the first order. The sandbox's own command is its request's, not this one's.
        Assert.Equal(1, parts["http"].Count);
        Assert.InRange(parts["http"].Ms, 0.001, total);
        if (kind == StoreKind.Postgres)
        {
            Assert.InRange(parts["db"].Count, 2, 3);
            Assert.InRange(parts["db"].Ms, 0.001, total);
        }
        else
        {
            Assert.Equal((0.0, 0), parts["db"]); // SQLite runs in process: no waits to report
        }
    }

    [Fact]
    public async Task Off_by_default()
    {
        using var client = (await Environment.HostAsync(kind)).CreateClient();
        using var response = await Api.PostOrderAsync(client, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(response.Headers.Contains("Server-Timing"));
    }

    [GeneratedRegex("(?<name>db|http);dur=(?<dur>[0-9.]+);desc=\"(?<count>[0-9]+) (commands|calls)\"")]
    private static partial Regex Part();

    [GeneratedRegex("total;dur=(?<dur>[0-9.]+)")]
    private static partial Regex Total();
}

[Collection(ServerCollection.Name)]
public sealed class ServerTimingOnSqlite(ServerEnvironment environment) : ServerTimingTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class ServerTimingOnPostgres(ServerEnvironment environment) : ServerTimingTests(environment, StoreKind.Postgres);
