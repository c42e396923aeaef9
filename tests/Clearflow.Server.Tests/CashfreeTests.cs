using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Gateways.Cashfree;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The Cashfree connector (API 2023-08-01) end to end against a local fake, on both stores.</summary>
public abstract class CashfreeTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private static readonly Dictionary<string, string> RightKeys = new() { ["client_id"] = FakeCashfree.ClientId, ["client_secret"] = FakeCashfree.ClientSecret };

    private async Task<(GatewayHost Host, FakeCashfree Cashfree)> StartAsync()
    {
        var cashfree = await FakeCashfree.StartAsync();
        var host = await GatewayHost.StartAsync(Environment, kind, "cashfree", new Dictionary<string, string?>
        {
            ["Clearflow:Gateways:Cashfree:SandboxBaseUrl"] = cashfree.BaseAddress.ToString(),
            ["Clearflow:Gateways:Cashfree:SettlementPageSize"] = "2", // so a few lines span pages
        });
        cashfree.WebhookTarget = host.WebhookUrl("cashfree");
        return (host, cashfree);
    }

    [Fact]
    public async Task A_payment_goes_through_cashfree_create_fail_pay_webhook_return_refund()
    {
        var (s, cashfree) = await StartAsync();
        using var _ = s;
        await using var __ = cashfree;
        await s.PutCredentialsAsync("cashfree", new(RightKeys) { ["client_secret"] = "wrong" });
        using (var rejected = await s.TestConnectionAsync("cashfree"))
        {
            var problem = await Api.ProblemAsync(rejected, HttpStatusCode.UnprocessableEntity, "gateway-credentials-rejected");
            Assert.Contains("cashfree", problem.GetProperty("detail").GetString());
        }
        await s.PutCredentialsAsync("cashfree", RightKeys);
        using (var ok = await s.TestConnectionAsync("cashfree"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var order = await s.CreateOrderAsync(49_950);
        var checkout = order.GetProperty("checkout");
        Assert.Equal(("cashfree_session", "sandbox"), (checkout.GetProperty("type").GetString(), checkout.GetProperty("mode").GetString()));
        Assert.StartsWith("session_", checkout.GetProperty("payment_session_id").GetString());
        // Major units on the wire, exactly: 49950 paise is 499.50.
        Assert.Equal("499.50", cashfree.Order(Api.Id(order))!.Value.GetProperty("order_amount").GetRawText());
        Assert.NotNull(cashfree.Requests.Single(r => r.Method == "POST" && r.Path == "/pg/orders").IdempotencyKey);

        cashfree.Habit = FakeCashfree.Delivery.Duplicate;
        await cashfree.FailPaymentAsync(Api.Id(order));
        await cashfree.PayAsync(Api.Id(order));
        await cashfree.WaitForDeliveriesAsync();
        Assert.All(cashfree.WebhookAnswers, status => Assert.Equal(200, status));
        var paid = await s.WaitForStatusAsync(Api.Id(order), "succeeded");
        Assert.Equal(49_950, paid.GetProperty("amount_paid").GetInt64());
        Assert.Single(paid.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("-> succeeded", StringComparison.Ordinal));

        // The customer's return (unsigned at Cashfree): a hint that makes Clearflow fetch the order.
        using var anonymous = s.Host.CreateClient(authenticate: false);
        using (var back = await anonymous.GetAsync($"/v1/gateways/cashfree/return?order_id={Api.Id(order)}"))
        {
            Assert.True((int)back.StatusCode < 400, await back.Content.ReadAsStringAsync());
        }
        await Api.WaitForOrderAsync(s.Client, Api.Id(order),
            o => o.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "gateway.status_fetched"), "status fetched");

        var refund = await s.RefundAsync(Api.Id(order), 10_050, "cf-refund-1");
        Assert.Equal("pending", refund.GetProperty("status").GetString());
        await s.RunRefundChecksAsync();
        Assert.Equal("succeeded", (await s.Client.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds/{refund.GetProperty("id").GetString()}"))
            .GetProperty("status").GetString());
        Assert.Equal("partially_refunded", (await Api.GetOrderAsync(s.Client, Api.Id(order))).GetProperty("status").GetString());

        // A failed refund frees the amount again.
        cashfree.FailNextRefund();
        var failing = await s.RefundAsync(Api.Id(order), 39_900, "cf-refund-2");
        await s.RunRefundChecksAsync();
        Assert.Equal("failed", (await s.Client.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds/{failing.GetProperty("id").GetString()}"))
            .GetProperty("status").GetString());
        Assert.Equal("partially_refunded", (await Api.GetOrderAsync(s.Client, Api.Id(order))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Webhooks_are_checked_on_the_raw_bytes_and_lost_ones_are_made_up_by_a_status_check()
    {
        var (s, cashfree) = await StartAsync();
        using var _ = s;
        await using var __ = cashfree;
        await s.PutCredentialsAsync("cashfree", RightKeys);
        var order = await s.CreateOrderAsync();
        cashfree.WebhookTarget = null;
        await cashfree.PayAsync(Api.Id(order));
        await s.RecheckAsync(Api.Id(order));
        await s.WaitForStatusAsync(Api.Id(order), "succeeded");

        // Re-serialising "499.00" as 499 would break the signature: the bytes are what is signed.
        var body = $$$"""{"data":{"order":{"order_id":"{{{Api.Id(order)}}}","order_amount":499.00,"order_currency":"INR"},"payment":{"cf_payment_id":"999","payment_status":"FAILED","payment_amount":499.00,"payment_currency":"INR"}},"event_time":"2026-11-26T10:00:00+05:30","type":"PAYMENT_FAILED_WEBHOOK"}""";
        using var anonymous = s.Host.CreateClient(authenticate: false);
        async Task<HttpResponseMessage> PostAsync(string signedBody, string sentBody, string secret, DateTimeOffset at)
        {
            var timestamp = at.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var content = new StringContent(sentBody, Encoding.UTF8, "application/json");
            content.Headers.Add("x-webhook-signature", FakeCashfree.Sign(timestamp, signedBody, secret));
            content.Headers.Add("x-webhook-timestamp", timestamp);
            return await anonymous.PostAsync(s.WebhookUrl("cashfree"), content);
        }
        var now = s.Clock.GetUtcNow();
        using (var tampered = await PostAsync(body, body.Replace("499.00", "499.0", StringComparison.Ordinal), FakeCashfree.ClientSecret, now))
        {
            await Api.ProblemAsync(tampered, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        using (var wrongSecret = await PostAsync(body, body, "not-the-secret", now))
        {
            await Api.ProblemAsync(wrongSecret, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        using (var stale = await PostAsync(body, body, FakeCashfree.ClientSecret, now.AddHours(-1)))
        {
            var problem = await Api.ProblemAsync(stale, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
            Assert.Contains("timestamp", problem.GetProperty("detail").GetString());
        }
        using (var late = await PostAsync(body, body, FakeCashfree.ClientSecret, now))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        }
        await Api.WaitForOrderAsync(s.Client, Api.Id(order),
            o => o.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "event.ignored"), "late failure ignored");
        Assert.Equal("succeeded", (await Api.GetOrderAsync(s.Client, Api.Id(order))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Settlement_lines_are_read_across_pages_with_decimal_fees_and_matched_to_orders()
    {
        var (s, cashfree) = await StartAsync();
        using var _ = s;
        await using var __ = cashfree;
        await s.PutCredentialsAsync("cashfree", RightKeys);
        var orders = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var order = await s.CreateOrderAsync(10_000 + i * 1_001);
            await cashfree.PayAsync(Api.Id(order));
            await s.WaitForStatusAsync(Api.Id(order), "succeeded");
            orders.Add(Api.Id(order));
        }
        var day = DateOnly.FromDateTime(DateTime.UtcNow);
        cashfree.Settle(day);

        var date = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        using var response = await s.Client.GetAsync($"/v1/merchant/gateways/cashfree/settlements?from={date}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var report = JsonDocument.Parse(text).RootElement;
        var lines = report.GetProperty("lines").EnumerateArray().ToArray();
        Assert.Equal(orders.Order(), lines.Select(l => l.GetProperty("order_id").GetString()!).Order());
        foreach (var line in lines)
        {
            var gross = line.GetProperty("gross").GetInt64();
            var (fee, tax) = FakeCashfree.FeeFor(gross);
            Assert.Equal((fee, tax, gross - fee - tax), (line.GetProperty("fee").GetInt64(), line.GetProperty("tax").GetInt64(), line.GetProperty("net").GetInt64()));
        }
    }

    [Fact]
    public void Amounts_convert_between_minor_units_and_cashfree_decimals_without_floating_point()
    {
        Assert.Equal("499.00", CashfreeGateway.Major(49_900, "INR"));
        Assert.Equal("0.01", CashfreeGateway.Major(1, "INR"));
        foreach (var (raw, minor) in new[] { ("499.00", 49_900L), ("499.5", 49_950L), ("499", 49_900L), ("90071992547409.91", 9_007_199_254_740_991L) })
        {
            using var document = JsonDocument.Parse(raw);
            Assert.Equal(minor, CashfreeGateway.Minor(document.RootElement, "INR"));
        }
        using var tooPrecise = JsonDocument.Parse("0.001");
        Assert.Throws<FormatException>(() => CashfreeGateway.Minor(tooPrecise.RootElement, "INR"));
    }
}

[Collection(ServerCollection.Name)]
public sealed class CashfreeOnSqlite(ServerEnvironment environment) : CashfreeTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class CashfreeOnPostgres(ServerEnvironment environment) : CashfreeTests(environment, StoreKind.Postgres);
