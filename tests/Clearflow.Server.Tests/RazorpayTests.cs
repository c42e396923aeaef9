using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Merchants;
using Clearflow.Application.Refunds;
using Clearflow.Gateways.Razorpay;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The Razorpay connector end to end against a local fake that speaks Razorpay's protocol, on both stores.</summary>
public abstract class RazorpayTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private sealed record Setup(GatewayHost Gateway, FakeRazorpay Razorpay) : IAsyncDisposable
    {
        public ClearflowTestHost Host => Gateway.Host;
        public FakeTimeProvider Clock => Gateway.Clock;
        public HttpClient Api => Gateway.Client;
        public string MerchantId => Gateway.MerchantId;

        public async ValueTask DisposeAsync()
        {
            Gateway.Dispose();
            await Razorpay.DisposeAsync();
        }
    }

    private static readonly Dictionary<string, string> RightKeys = new()
    {
        ["key_id"] = FakeRazorpay.KeyId, ["key_secret"] = FakeRazorpay.KeySecret, ["webhook_secret"] = FakeRazorpay.WebhookSecret,
    };

    private async Task<Setup> StartAsync()
    {
        var fake = await FakeRazorpay.StartAsync();
        var gateway = await GatewayHost.StartAsync(Environment, kind, "razorpay", new Dictionary<string, string?> { ["Clearflow:Gateways:Razorpay:BaseUrl"] = fake.BaseAddress.ToString() });
        fake.WebhookTarget = gateway.WebhookUrl("razorpay");
        return new Setup(gateway, fake);
    }

    private static Task RunRefundChecksAsync(Setup s) => s.Gateway.RunRefundChecksAsync();

    [Fact]
    public async Task A_payment_goes_through_razorpay_create_pay_callback_webhook_refund()
    {
        await using var s = await StartAsync();
        await s.Gateway.PutCredentialsAsync("razorpay", new(RightKeys) { ["key_secret"] = "not-the-secret" });
        using (var rejected = await s.Api.PostAsync("/v1/merchant/gateways/razorpay/test", null))
        {
            var problem = await Api.ProblemAsync(rejected, HttpStatusCode.UnprocessableEntity, "gateway-credentials-rejected");
            Assert.Contains("razorpay", problem.GetProperty("detail").GetString());
        }
        await s.Gateway.PutCredentialsAsync("razorpay", RightKeys);
        using (var ok = await s.Api.PostAsync("/v1/merchant/gateways/razorpay/test", null))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var order = await Api.CreateOrderAsync(s.Api, amount: 49_900);
        var checkout = order.GetProperty("checkout");
        Assert.Equal(("razorpay_checkout", FakeRazorpay.KeyId, "49900"),
            (checkout.GetProperty("type").GetString(), checkout.GetProperty("key_id").GetString(), checkout.GetProperty("amount").GetString()));
        var razorpayOrderId = checkout.GetProperty("order_id").GetString()!;
        Assert.Equal(49_900, s.Razorpay.Order(razorpayOrderId)!.Value.GetProperty("amount").GetInt64());

        // A failed attempt keeps the order open; then the customer pays; Razorpay sends every event twice.
        s.Razorpay.Habit = FakeRazorpay.Delivery.Duplicate;
        await s.Razorpay.FailPaymentAsync(razorpayOrderId);
        var (paymentId, _, signature) = await s.Razorpay.PayAsync(razorpayOrderId);
        await s.Razorpay.WaitForDeliveriesAsync();
        Assert.All(s.Razorpay.WebhookAnswers, status => Assert.Equal(200, status));
        var paid = await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded");
        Assert.Equal(49_900, paid.GetProperty("amount_paid").GetInt64());
        // The failed attempt moves it to pending (or is overtaken); the success applies once, however many duplicates arrived.
        var moves = paid.GetProperty("timeline").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "status.changed")
            .Select(e => e.GetProperty("message").GetString()!).ToArray();
        Assert.Single(moves, m => m.Contains("-> succeeded", StringComparison.Ordinal));
        Assert.All(moves, m => Assert.Matches("^(created|pending) -> (pending|succeeded):", m));

        // The checkout's signed success, as a form post to the callback URL; a forged one is refused.
        using var anonymous = s.Host.CreateClient(authenticate: false);
        using (var forged = await anonymous.PostAsync($"/v1/gateways/razorpay/return?order_id={Api.Id(order)}", new FormUrlEncodedContent(new Dictionary<string, string>
               {
                   ["razorpay_order_id"] = razorpayOrderId, ["razorpay_payment_id"] = paymentId, ["razorpay_signature"] = new string('0', 64),
               })))
        {
            await Api.ProblemAsync(forged, HttpStatusCode.BadRequest, "callback-signature-invalid");
        }
        using (var back = await anonymous.PostAsync($"/v1/gateways/razorpay/return?order_id={Api.Id(order)}", new FormUrlEncodedContent(new Dictionary<string, string>
               {
                   ["razorpay_order_id"] = razorpayOrderId, ["razorpay_payment_id"] = paymentId, ["razorpay_signature"] = signature,
               })))
        {
            Assert.True((int)back.StatusCode < 400, await back.Content.ReadAsStringAsync());
        }
        await Api.WaitForOrderAsync(s.Api, Api.Id(order),
            o => o.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "gateway.status_fetched"), "status fetched after callback");

        // Refunds: partial then the rest; each pending at first, processed when checked; one Razorpay refund per Clearflow refund.
        var first = await s.Gateway.RefundAsync(Api.Id(order), 10_000, "rzp-refund-1");
        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.StartsWith("rfnd_", first.GetProperty("gateway_reference").GetString());
        using (var again = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount = 10_000 }) })
        {
            again.Headers.Add("Idempotency-Key", "rzp-refund-1");
            using var replay = await s.Api.SendAsync(again);
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(first.GetProperty("id").GetString(), (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }
        await RunRefundChecksAsync(s);
        Assert.Equal("partially_refunded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());
        await s.Gateway.RefundAsync(Api.Id(order), 39_900, "rzp-refund-2");
        await RunRefundChecksAsync(s);
        Assert.Equal("refunded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());
        var refundCalls = s.Razorpay.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/refund", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, refundCalls.Select(r => r.IdempotencyKey).Distinct().Count());
        Assert.All(refundCalls, r => Assert.True(r.IdempotencyKey!.Length >= 10));
    }

    [Fact]
    public async Task Without_a_webhook_the_poller_finds_the_payment_and_bad_webhooks_change_nothing()
    {
        await using var s = await StartAsync();
        await s.Gateway.PutCredentialsAsync("razorpay", RightKeys);
        var order = await Api.CreateOrderAsync(s.Api);
        var razorpayOrderId = order.GetProperty("checkout").GetProperty("order_id").GetString()!;
        s.Razorpay.WebhookTarget = null; // webhooks lost
        await s.Razorpay.PayAsync(razorpayOrderId);

        using (var scope = s.Host.Services.CreateScope())
        {
            var recheck = scope.ServiceProvider.GetRequiredService<Application.Checks.RecheckOrder>();
            var result = await recheck.HandleAsync(s.MerchantId, Api.Id(order), default);
            Assert.True(result.IsSuccess);
        }
        await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded by status check");

        using var anonymous = s.Host.CreateClient(authenticate: false);
        var body = """{"entity":"event","account_id":"acc_x","event":"payment.failed","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_x","order_id":"ORDER","amount":49900,"currency":"INR","status":"failed"}}},"created_at":1}"""
            .Replace("ORDER", razorpayOrderId, StringComparison.Ordinal);
        async Task<HttpResponseMessage> PostAsync(string path, string signature, string? eventId = "evt_test000000001")
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            content.Headers.Add(RazorpaySignatures.WebhookHeader, signature);
            if (eventId is not null)
            {
                content.Headers.Add(RazorpaySignatures.EventIdHeader, eventId);
            }
            return await anonymous.PostAsync(path, content);
        }
        using (var wrongSecret = await PostAsync($"/v1/gateways/razorpay/webhooks/{s.MerchantId}", FakeRazorpay.SignWebhook(body, "other-secret")))
        {
            await Api.ProblemAsync(wrongSecret, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        var tampered = FakeRazorpay.SignWebhook(body.Replace("49900", "49901", StringComparison.Ordinal), FakeRazorpay.WebhookSecret);
        using (var tamperedBody = await PostAsync($"/v1/gateways/razorpay/webhooks/{s.MerchantId}", tampered))
        {
            await Api.ProblemAsync(tamperedBody, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        using (var noEventId = await PostAsync($"/v1/gateways/razorpay/webhooks/{s.MerchantId}", FakeRazorpay.SignWebhook(body, FakeRazorpay.WebhookSecret), null))
        {
            await Api.ProblemAsync(noEventId, HttpStatusCode.BadRequest, "webhook-malformed");
        }
        using (var late = await PostAsync($"/v1/gateways/razorpay/webhooks/{s.MerchantId}", FakeRazorpay.SignWebhook(body, FakeRazorpay.WebhookSecret)))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode); // authentic, and a late failure cannot undo the success
        }
        await Api.WaitForOrderAsync(s.Api, Api.Id(order),
            o => o.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "event.ignored"), "late failure ignored");
        Assert.Equal("succeeded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Settlement_lines_come_with_fees_and_are_matched_to_orders()
    {
        await using var s = await StartAsync();
        await s.Gateway.PutCredentialsAsync("razorpay", RightKeys);
        var order = await Api.CreateOrderAsync(s.Api, amount: 50_000);
        var razorpayOrderId = order.GetProperty("checkout").GetProperty("order_id").GetString()!;
        await s.Razorpay.PayAsync(razorpayOrderId);
        await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded");
        await s.Gateway.RefundAsync(Api.Id(order), 5_000, "rzp-settle-refund");
        await RunRefundChecksAsync(s);
        var day = DateOnly.FromDateTime(DateTime.UtcNow);
        s.Razorpay.Settle(day);

        var date = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var report = await s.Api.GetFromJsonAsync<JsonElement>($"/v1/merchant/gateways/razorpay/settlements?from={date}&to={date}");
        var lines = report.GetProperty("lines").EnumerateArray().ToArray();
        var (fee, tax) = FakeRazorpay.FeeFor(50_000);
        var payment = Assert.Single(lines, l => l.GetProperty("kind").GetString() == "payment");
        Assert.Equal((Api.Id(order), 50_000L, fee, tax, 50_000 - fee - tax),
            (payment.GetProperty("order_id").GetString(), payment.GetProperty("gross").GetInt64(), payment.GetProperty("fee").GetInt64(),
             payment.GetProperty("tax").GetInt64(), payment.GetProperty("net").GetInt64()));
        Assert.False(payment.TryGetProperty("discrepancy", out _));
        var refundLine = Assert.Single(lines, l => l.GetProperty("kind").GetString() == "refund");
        Assert.Equal((Api.Id(order), -5_000L), (refundLine.GetProperty("order_id").GetString(), refundLine.GetProperty("net").GetInt64()));
        var total = Assert.Single(report.GetProperty("totals").EnumerateArray());
        Assert.Equal(50_000 - fee - tax - 5_000, total.GetProperty("net").GetInt64());

        using var badDates = await s.Api.GetAsync($"/v1/merchant/gateways/razorpay/settlements?from={date}&to=2020-01-01");
        await Api.ProblemAsync(badDates, HttpStatusCode.BadRequest, "invalid-filter");
        using var sandbox = await s.Api.GetAsync($"/v1/merchant/gateways/sandbox/settlements?from={date}");
        await Api.ProblemAsync(sandbox, HttpStatusCode.UnprocessableEntity, "settlements-not-supported");
    }

    [Fact]
    public async Task An_order_create_without_idempotency_is_not_retried_inside_the_call()
    {
        await using var s = await StartAsync();
        await s.Gateway.PutCredentialsAsync("razorpay", RightKeys);
        var body = Api.OrderBody(Api.NewReceipt());
        s.Razorpay.FailNextRequests(1, 500);
        using (var response = await Api.PostOrderAsync(s.Api, body, "rzp-no-retry"))
        {
            await Api.ProblemAsync(response, HttpStatusCode.ServiceUnavailable, "gateway-unavailable");
        }
        Assert.Single(s.Razorpay.Requests, r => r.Method == "POST" && r.Path == "/v1/orders");
        // The merchant's retry with the same key continues the same Clearflow order.
        using var retried = await Api.PostOrderAsync(s.Api, body, "rzp-no-retry");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(2, s.Razorpay.Requests.Count(r => r.Method == "POST" && r.Path == "/v1/orders"));
    }
}

/// <summary>Razorpay's signature schemes on their own.</summary>
public sealed class RazorpaySignatureTests
{
    [Fact]
    public void Webhook_and_checkout_signatures_are_hex_hmacs_that_reject_tampering_and_wrong_secrets()
    {
        var body = Encoding.UTF8.GetBytes("""{"event":"payment.captured"}""");
        var signature = RazorpaySignatures.Webhook("secret", body);
        Assert.Equal(FakeRazorpay.SignWebhook(Encoding.UTF8.GetString(body), "secret"), signature);
        Assert.True(RazorpaySignatures.Matches(signature, signature.ToUpperInvariant()));
        Assert.False(RazorpaySignatures.Matches(RazorpaySignatures.Webhook("other", body), signature));
        body[^2] ^= 1;
        Assert.False(RazorpaySignatures.Matches(RazorpaySignatures.Webhook("secret", body), signature));
        Assert.False(RazorpaySignatures.Matches(signature, null));

        var checkout = RazorpaySignatures.Checkout("key_secret", "order_1", "pay_1");
        Assert.Equal(FakeRazorpay.SignCheckout("order_1", "pay_1", "key_secret"), checkout);
        Assert.NotEqual(checkout, RazorpaySignatures.Checkout("key_secret", "order_1", "pay_2"));
    }
}

[Collection(ServerCollection.Name)]
public sealed class RazorpayOnSqlite(ServerEnvironment environment) : RazorpayTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class RazorpayOnPostgres(ServerEnvironment environment) : RazorpayTests(environment, StoreKind.Postgres);
