using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clearflow.Gateways.PayU;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The PayU India connector end to end against a local fake, on both stores.</summary>
public abstract class PayUTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private static readonly Dictionary<string, string> RightKeys = new() { ["key"] = FakePayU.MerchantKey, ["salt"] = FakePayU.Salt, ["mode"] = "test" };

    private async Task<(GatewayHost Host, FakePayU PayU)> StartAsync()
    {
        var payu = await FakePayU.StartAsync();
        var host = await GatewayHost.StartAsync(Environment, kind, "payu", new Dictionary<string, string?>
        {
            ["Clearflow:Gateways:PayU:TestBaseUrl"] = payu.BaseAddress.ToString(),
        });
        payu.NotifyTarget = host.WebhookUrl("payu");
        return (host, payu);
    }

    /// <summary>What the customer's browser does with the checkout payload: post the hashed form to PayU.</summary>
    private static async Task<string> PostCheckoutFormAsync(JsonElement order)
    {
        var checkout = order.GetProperty("checkout");
        Assert.Equal("payu_form", checkout.GetProperty("type").GetString());
        var fields = JsonSerializer.Deserialize<Dictionary<string, string>>(checkout.GetProperty("form_fields").GetString()!)!;
        using var browser = new HttpClient();
        using var response = await browser.PostAsync(checkout.GetProperty("action_url").GetString(), new FormUrlEncodedContent(fields));
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("PayU fake checkout for " + fields["txnid"], page);
        return fields["txnid"];
    }

    [Fact]
    public async Task A_payment_goes_through_payu_form_pay_return_notification_refund()
    {
        var (s, payu) = await StartAsync();
        using var _ = s;
        await using var __ = payu;
        await s.PutCredentialsAsync("payu", new(RightKeys) { ["salt"] = "wrong-salt" });
        using (var rejected = await s.TestConnectionAsync("payu"))
        {
            var problem = await Api.ProblemAsync(rejected, HttpStatusCode.UnprocessableEntity, "gateway-credentials-rejected");
            Assert.Contains("invalid_hash", problem.GetProperty("detail").GetString());
        }
        await s.PutCredentialsAsync("payu", RightKeys);
        using (var ok = await s.TestConnectionAsync("payu"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var order = await s.CreateOrderAsync(49_900);
        var txnid = await PostCheckoutFormAsync(order);
        Assert.Equal(PayUGateway.TxnId(Api.Id(order)), txnid);
        Assert.Equal("499.00", payu.Transaction(txnid)!["amount"]);

        payu.Habit = FakePayU.Delivery.Duplicate;
        await payu.PayAsync(txnid);
        Assert.All(payu.BrowserReturns, r => Assert.True(r.Status < 400, $"{r.Url}: {r.Status}"));
        Assert.All(payu.NotifyAnswers, status => Assert.Equal(200, status));
        var paid = await s.WaitForStatusAsync(Api.Id(order), "succeeded");
        Assert.Equal(49_900, paid.GetProperty("amount_paid").GetInt64());
        Assert.Single(paid.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("-> succeeded", StringComparison.Ordinal));

        var refund = await s.RefundAsync(Api.Id(order), 10_000, "payu-refund-1");
        Assert.Equal("pending", refund.GetProperty("status").GetString());
        await s.RunRefundChecksAsync();
        Assert.Equal("succeeded", (await s.Client.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds/{refund.GetProperty("id").GetString()}"))
            .GetProperty("status").GetString());
        Assert.Equal("partially_refunded", (await Api.GetOrderAsync(s.Client, Api.Id(order))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_failed_payment_fails_the_order_and_forged_returns_and_notifications_are_refused()
    {
        var (s, payu) = await StartAsync();
        using var _ = s;
        await using var __ = payu;
        await s.PutCredentialsAsync("payu", RightKeys);
        using (var noEmail = await Api.PostOrderAsync(s.Client, """{"amount":100,"currency":"INR","receipt":"no-email-1","customer":{"id":"c1"}}""", Guid.NewGuid().ToString()))
        {
            var problem = await Api.ProblemAsync(noEmail, HttpStatusCode.BadGateway, "gateway-rejected");
            Assert.Contains("email", problem.GetProperty("detail").GetString());
        }

        var order = await s.CreateOrderAsync();
        var txnid = await PostCheckoutFormAsync(order);
        // A forged success: right fields, hash made without the salt.
        var forged = new Dictionary<string, string>
        {
            ["key"] = FakePayU.MerchantKey, ["txnid"] = txnid, ["status"] = "success", ["amount"] = "499.00", ["mihpayid"] = "1", ["productinfo"] = "x",
            ["firstname"] = "x", ["email"] = "x@example.com", ["udf1"] = Api.Id(order),
        };
        forged["hash"] = FakePayU.ResponseHash(forged, "not-the-salt");
        using var anonymous = s.Host.CreateClient(authenticate: false);
        using (var notification = await anonymous.PostAsync(s.WebhookUrl("payu"), new FormUrlEncodedContent(forged)))
        {
            await Api.ProblemAsync(notification, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        using (var browserReturn = await anonymous.PostAsync($"/v1/gateways/payu/return?order_id={Api.Id(order)}", new FormUrlEncodedContent(forged)))
        {
            await Api.ProblemAsync(browserReturn, HttpStatusCode.BadRequest, "callback-signature-invalid");
        }
        Assert.Equal("created", (await Api.GetOrderAsync(s.Client, Api.Id(order))).GetProperty("status").GetString());

        await payu.FailAsync(txnid);
        await s.WaitForStatusAsync(Api.Id(order), "failed");
    }

    [Fact]
    public void The_hashes_follow_payus_field_order()
    {
        var fields = new Dictionary<string, string>
        {
            ["key"] = "K", ["txnid"] = "T", ["amount"] = "10.00", ["productinfo"] = "P", ["firstname"] = "F", ["email"] = "E", ["udf1"] = "U1", ["status"] = "success",
        };
        Assert.Equal(PayUHashes.Sha512("K|T|10.00|P|F|E|U1||||||||||S"), PayUHashes.Request(fields, "S"));
        Assert.Equal(FakePayU.RequestHash(fields, "S"), PayUHashes.Request(fields, "S"));
        Assert.Equal(PayUHashes.Sha512("S|success||||||||||U1|E|F|P|10.00|T|K"), PayUHashes.Response(fields, "S"));
        Assert.Equal(FakePayU.ResponseHash(fields, "S"), PayUHashes.Response(fields, "S"));
        fields["additionalCharges"] = "5.00";
        Assert.Equal(PayUHashes.Sha512("5.00|S|success||||||||||U1|E|F|P|10.00|T|K"), PayUHashes.Response(fields, "S"));
        Assert.Equal(25, PayUGateway.TxnId("ord_01kabcdefghjkmnpqrstvwxyz0").Length);
    }
}

[Collection(ServerCollection.Name)]
public sealed class PayUOnSqlite(ServerEnvironment environment) : PayUTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class PayUOnPostgres(ServerEnvironment environment) : PayUTests(environment, StoreKind.Postgres);
