using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Customers;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Orders;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Order history: list with filters and paging, CSV export, customer histories and customer tokens.</summary>
public abstract class HistoryTests(ServerEnvironment environment, StoreKind kind)
{
    /// <summary>Each test gets its own merchant, so its lists hold exactly its own orders.</summary>
    private async Task<(ClearflowTestHost Host, HttpClient Client, string MerchantId)> NewMerchantAsync()
    {
        var host = await environment.HostAsync(kind);
        using var scope = host.Services.CreateScope();
        var merchant = await scope.ServiceProvider.GetRequiredService<CreateMerchant>().HandleAsync("History " + Guid.NewGuid().ToString("N")[..10], default);
        var key = await scope.ServiceProvider.GetRequiredService<IssueApiKey>().HandleAsync(merchant.Value!.Id, "test", default);
        return (host, host.CreateClient(key.Value!.SecretKey), merchant.Value.Id);
    }

    private static async Task<JsonElement> CreateAsync(HttpClient client, string receipt, long amount, string customerId, string currency = "INR")
    {
        var body = JsonSerializer.Serialize(new { amount, currency, receipt, customer = new { id = customerId } });
        using var response = await Api.PostOrderAsync(client, body, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> ListAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync("/v1/orders" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static string[] Ids(JsonElement page) => [.. page.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()!)];

    [Fact]
    public async Task Filters_select_the_matching_orders_newest_first()
    {
        var (_, client, _) = await NewMerchantAsync();
        var small = await CreateAsync(client, "inv-small-1", 1_000, "cust-a");
        var large = await CreateAsync(client, "inv-large-2", 90_000, "cust-b");
        var usd = await CreateAsync(client, "INV-Mixed-3", 5_000, "cust-a", "USD");

        Assert.Equal([Api.Id(usd), Api.Id(large), Api.Id(small)], Ids(await ListAsync(client, "")));
        Assert.Equal([Api.Id(usd), Api.Id(small)], Ids(await ListAsync(client, "?customer_id=cust-a")));
        Assert.Equal([Api.Id(usd), Api.Id(large)], Ids(await ListAsync(client, "?amount_min=5000")));
        Assert.Equal([Api.Id(usd), Api.Id(small)], Ids(await ListAsync(client, "?amount_max=5000")));
        Assert.Equal([Api.Id(usd)], Ids(await ListAsync(client, "?currency=usd")));
        Assert.Equal([Api.Id(large)], Ids(await ListAsync(client, "?q=LARGE")));
        Assert.Equal([Api.Id(usd)], Ids(await ListAsync(client, "?q=mixed")));
        Assert.Equal([Api.Id(small)], Ids(await ListAsync(client, "?q=" + Api.Id(small))));
        Assert.Equal([Api.Id(large)], Ids(await ListAsync(client, "?status=created&gateway=sandbox&amount_min=50000")));
        Assert.Empty(Ids(await ListAsync(client, "?status=succeeded,failed")));
        Assert.Empty(Ids(await ListAsync(client, "?q=inv%25")));
        Assert.Empty(Ids(await ListAsync(client, "?gateway=stripe")));

        // The gateway's reference finds its order, and each row carries it.
        var reference = (await Api.GetOrderAsync(client, Api.Id(large))).GetProperty("attempts")[0].GetProperty("gateway_reference").GetString()!;
        var byReference = await ListAsync(client, "?q=" + Uri.EscapeDataString(reference[..^2]));
        Assert.Equal([Api.Id(large)], Ids(byReference));
        Assert.Equal(reference, byReference.GetProperty("data")[0].GetProperty("gateway_reference").GetString());

        // Date ranges: today's orders are inside today and outside yesterday.
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(3, Ids(await ListAsync(client, $"?created_from={today}&created_to={today}")).Length);
        Assert.Empty(Ids(await ListAsync(client, $"?created_to={yesterday}")));
        Assert.Equal(3, Ids(await ListAsync(client, "?created_from=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture)))).Length);
    }

    [Fact]
    public async Task Pages_chain_without_gaps_or_repeats_while_new_orders_arrive()
    {
        var (_, client, _) = await NewMerchantAsync();
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            created.Add(Api.Id(await CreateAsync(client, $"page-{i}", 100 + i, "cust-p")));
        }
        created.Reverse();

        var seen = new List<string>();
        var page = await ListAsync(client, "?limit=3");
        seen.AddRange(Ids(page));
        // An order arriving mid-way is newer than every cursor: it neither shifts nor repeats anything.
        await CreateAsync(client, "page-late", 500, "cust-p");
        while (page.GetProperty("has_more").GetBoolean())
        {
            page = await ListAsync(client, "?limit=3&cursor=" + page.GetProperty("next_cursor").GetString());
            seen.AddRange(Ids(page));
        }
        Assert.Equal(created, seen);
        Assert.False(page.TryGetProperty("next_cursor", out _), "the last page has no next cursor");
        Assert.Equal(8, Ids(await ListAsync(client, "?limit=100")).Length);
    }

    [Fact]
    public async Task Bad_filters_are_clear_400s()
    {
        var (_, client, _) = await NewMerchantAsync();
        foreach (var (query, field) in new[]
                 {
                     ("?stauts=created", "stauts"), ("?status=paid", "status"), ("?amount_min=1.5", "amount_min"), ("?amount_min=-1", "amount_min"),
                     ("?limit=0", "limit"), ("?limit=101", "limit"), ("?cursor=bm9wZQ", "cursor"), ("?cursor=%%%", "cursor"),
                     ("?created_from=2026-11-25&created_to=2026-11-24", "created_to"), ("?created_from=yesterday", "created_from"),
                     ("?created_from=2026-11-24T10:00:00", "created_from"), ("?currency=XXQ", "currency"), ("?amount_min=9&amount_max=8", "amount_max"),
                 })
        {
            using var response = await client.GetAsync("/v1/orders" + query);
            var problem = await Api.ProblemAsync(response, HttpStatusCode.BadRequest, "invalid-filter");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{query}: {problem}");
        }
        using var export = await client.GetAsync("/v1/orders/export?limit=5");
        await Api.ProblemAsync(export, HttpStatusCode.BadRequest, "invalid-filter");
        using var anonymous = (await environment.HostAsync(kind)).CreateClient(authenticate: false);
        using var unauthenticated = await anonymous.GetAsync("/v1/orders");
        await Api.ProblemAsync(unauthenticated, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task The_csv_export_streams_every_matching_order_across_pages_and_defuses_formulas()
    {
        var (host, client, merchantId) = await NewMerchantAsync();
        // More than one export page (500), written through the real store to keep the test quick.
        var start = DateTimeOffset.UtcNow.AddMinutes(-30);
        for (var i = 0; i < 520; i++)
        {
            var at = start.AddMilliseconds(i * 3);
            var order = new OrderRecord($"ord_bulk{merchantId[^6..]}{i:D4}", merchantId, $"bulk-{i}", 1_000 + i, "INR", 0, 0, OrderStatus.Created, null,
                "sandbox", new CustomerRecord("cust-bulk", null, null, null), "{}", null, "secret", "key-" + i, at, at);
            Assert.True(await host.Store.InsertOrderAsync(order, new TimelineEntry(at, "order.created", "Order created."), [], default));
        }
        await CreateAsync(client, "=HYPERLINK(\"http://evil\")", 4_250, "cust-x, \"quoted\"");

        using var response = await client.GetAsync("/v1/orders/export", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition?.ToString());
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("order_id,created_at,status,amount,amount_display", lines[0]);
        Assert.Equal(1 + 521, lines.Length);
        Assert.Equal(521, lines.Skip(1).Select(l => l.Split(',')[0]).Distinct().Count());
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil\"\")\"", lines[1]);
        Assert.Contains(",42.50,", lines[1]);
        Assert.Contains("\"cust-x, \"\"quoted\"\"\"", lines[1]);
        Assert.StartsWith("ord_bulk" + merchantId[^6..] + "0519,", lines[2]);

        using var filtered = await client.GetAsync("/v1/orders/export?amount_min=1500&customer_id=cust-bulk");
        var filteredLines = (await filtered.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 20, filteredLines.Length);
    }

    [Fact]
    public async Task A_customers_history_and_a_customer_token_show_only_that_customers_orders()
    {
        var (host, client, _) = await NewMerchantAsync();
        var mine = await CreateAsync(client, "c-1", 700, "cust-me");
        await CreateAsync(client, "c-2", 800, "cust-other");
        var mine2 = await CreateAsync(client, "c-3", 900, "cust-me");

        var forMerchant = await client.GetFromJsonAsync<JsonElement>("/v1/customers/cust-me/orders");
        Assert.Equal([Api.Id(mine2), Api.Id(mine)], Ids(forMerchant));
        using var customerIdInQuery = await client.GetAsync("/v1/customers/cust-me/orders?customer_id=cust-other");
        await Api.ProblemAsync(customerIdInQuery, HttpStatusCode.BadRequest, "invalid-filter");

        using var minted = await client.PostAsJsonAsync("/v1/customers/cust-me/tokens", new { ttl_seconds = 600 });
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var token = (await minted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        Assert.StartsWith(CustomerTokens.Prefix, token);

        using var app = host.CreateClient(token);
        var own = await app.GetFromJsonAsync<JsonElement>("/v1/customer/orders");
        Assert.Equal([Api.Id(mine2), Api.Id(mine)], Ids(own));
        var row = own.GetProperty("data")[0];
        Assert.False(row.TryGetProperty("customer_id", out _));
        Assert.False(row.TryGetProperty("gateway_reference", out _));
        Assert.Equal([Api.Id(mine)], Ids(await app.GetFromJsonAsync<JsonElement>("/v1/customer/orders?amount_max=700")));

        // The token reads nothing else.
        using var list = await app.GetAsync("/v1/orders");
        await Api.ProblemAsync(list, HttpStatusCode.Forbidden, "forbidden");
        using var single = await app.GetAsync($"/v1/orders/{Api.Id(mine)}");
        await Api.ProblemAsync(single, HttpStatusCode.Forbidden, "forbidden");
        using var other = await app.GetAsync("/v1/customers/cust-other/orders");
        await Api.ProblemAsync(other, HttpStatusCode.Forbidden, "forbidden");
        using var widen = await app.GetAsync("/v1/customer/orders?customer_id=cust-other");
        await Api.ProblemAsync(widen, HttpStatusCode.BadRequest, "invalid-filter");

        // A tampered token (customer swapped) is refused.
        var parts = token[CustomerTokens.Prefix.Length..].Split('.');
        parts[1] = Convert.ToBase64String(Encoding.UTF8.GetBytes("cust-other")).TrimEnd('=');
        using var forged = host.CreateClient(CustomerTokens.Prefix + string.Join('.', parts));
        using var forgedResponse = await forged.GetAsync("/v1/customer/orders");
        await Api.ProblemAsync(forgedResponse, HttpStatusCode.Unauthorized, "unauthenticated");

        using var tooLong = await client.PostAsJsonAsync("/v1/customers/cust-me/tokens", new { ttl_seconds = 7200 });
        await Api.ProblemAsync(tooLong, HttpStatusCode.UnprocessableEntity, "validation-failed");
        using var notJson = await client.PostAsync("/v1/customers/cust-me/tokens", new StringContent("ttl", Encoding.UTF8, "application/json"));
        await Api.ProblemAsync(notJson, HttpStatusCode.BadRequest, "invalid-json");
    }

    [Fact]
    public async Task A_customer_token_expires()
    {
        var host = await environment.HostAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var tokens = new CustomerTokens(host.Store, clock);
        var minted = await tokens.MintAsync("mer_x", "cust-1", 60, default);
        Assert.Equal(new CustomerTokens.Holder("mer_x", "cust-1"), await tokens.VerifyAsync(minted.Value!.Token, default));
        // A second instance on the same database shares the key (another node).
        Assert.NotNull(await new CustomerTokens(host.Store, clock).VerifyAsync(minted.Value.Token, default));
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Null(await tokens.VerifyAsync(minted.Value.Token, default));
    }
}

[Collection(ServerCollection.Name)]
public sealed class HistoryOnSqlite(ServerEnvironment environment) : HistoryTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class HistoryOnPostgres(ServerEnvironment environment) : HistoryTests(environment, StoreKind.Postgres);
