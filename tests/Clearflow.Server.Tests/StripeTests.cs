using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Merchants;
using Clearflow.Application.Refunds;
using Clearflow.Gateways.Stripe;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The Stripe connector end to end against a local fake that speaks Stripe's protocol, on both stores.</summary>
public abstract class StripeTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private sealed record Setup(GatewayHost Gateway, FakeStripe Stripe) : IAsyncDisposable
    {
        public ClearflowTestHost Host => Gateway.Host;
        public FakeTimeProvider Clock => Gateway.Clock;
        public HttpClient Api => Gateway.Client;
        public string MerchantId => Gateway.MerchantId;

        public async ValueTask DisposeAsync()
        {
            Gateway.Dispose();
            await Stripe.DisposeAsync();
        }
    }

    private static readonly Dictionary<string, string> RightKeys = new()
    {
        ["secret_key"] = FakeStripe.SecretKey, ["publishable_key"] = FakeStripe.PublishableKey, ["webhook_secret"] = FakeStripe.WebhookSecret,
    };

    private async Task<Setup> StartAsync()
    {
        var fake = await FakeStripe.StartAsync();
        var gateway = await GatewayHost.StartAsync(Environment, kind, "stripe", new Dictionary<string, string?> { ["Clearflow:Gateways:Stripe:BaseUrl"] = fake.BaseAddress.ToString() });
        fake.WebhookTarget = gateway.WebhookUrl("stripe");
        return new Setup(gateway, fake);
    }

    private static async Task<HttpResponseMessage> PutCredentialsAsync(HttpClient api, Dictionary<string, string> fields) =>
        await api.PutAsync("/v1/merchant/gateways/stripe/credentials", new StringContent(JsonSerializer.Serialize(fields), Encoding.UTF8, "application/json"));

    private static Task RunRefundChecksAsync(Setup s) => s.Gateway.RunRefundChecksAsync();

    [Fact]
    public async Task Credentials_are_sealed_never_returned_and_checked_by_test_connection()
    {
        await using var s = await StartAsync();
        using (var missing = await s.Api.PostAsync("/v1/merchant/gateways/stripe/test", null))
        {
            await Api.ProblemAsync(missing, HttpStatusCode.Conflict, "gateway-not-configured");
        }
        using (var noCredentials = await Api.PostOrderAsync(s.Api, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString()))
        {
            await Api.ProblemAsync(noCredentials, HttpStatusCode.UnprocessableEntity, "gateway-not-configured");
        }
        using (var bad = await PutCredentialsAsync(s.Api, new() { ["secret_key"] = "pk_test_oops", ["publishable_key"] = FakeStripe.PublishableKey, ["extra"] = "x" }))
        {
            var problem = await Api.ProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation-failed");
            var errors = problem.GetProperty("errors");
            Assert.True(errors.TryGetProperty("secret_key", out _) && errors.TryGetProperty("webhook_secret", out _) && errors.TryGetProperty("extra", out _));
        }

        using (var wrong = await PutCredentialsAsync(s.Api, new(RightKeys) { ["secret_key"] = "sk_test_wrong_0000000000000000" }))
        {
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }
        using (var rejected = await s.Api.PostAsync("/v1/merchant/gateways/stripe/test", null))
        {
            var problem = await Api.ProblemAsync(rejected, HttpStatusCode.UnprocessableEntity, "gateway-credentials-rejected");
            Assert.Contains("api_key_invalid", problem.GetProperty("detail").GetString());
            Assert.Contains("stripe", problem.GetProperty("detail").GetString());
        }

        using var put = await PutCredentialsAsync(s.Api, RightKeys);
        var text = await put.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.DoesNotContain(FakeStripe.SecretKey, text);
        Assert.DoesNotContain(FakeStripe.WebhookSecret, text);
        Assert.Contains("sk_test_…", text);
        using (var ok = await s.Api.PostAsync("/v1/merchant/gateways/stripe/test", null))
        {
            Assert.True((await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ok").GetBoolean());
        }
        var listed = await s.Api.GetStringAsync("/v1/merchant/gateways");
        Assert.DoesNotContain(FakeStripe.SecretKey, listed);
        Assert.Contains("\"configured\":true", listed);

        // At rest: sealed, bound to this merchant and gateway, and not openable as another merchant's.
        var stored = (await s.Host.Store.GetGatewayCredentialsAsync(s.MerchantId, "stripe", default))!;
        Assert.DoesNotContain(FakeStripe.SecretKey, stored.Sealed);
        Assert.StartsWith("v1.", stored.Sealed);
        var secrets = s.Host.Services.GetRequiredService<Application.Abstractions.ISecretBox>();
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() =>
            secrets.Open(stored.Sealed, Application.Gateways.CredentialSealing.Context("mer_other", "stripe")));
    }

    [Fact]
    public async Task A_payment_goes_through_stripe_create_pay_webhook_callback_refund()
    {
        await using var s = await StartAsync();
        using (var put = await PutCredentialsAsync(s.Api, RightKeys))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        var order = await Api.CreateOrderAsync(s.Api, amount: 49_900);
        var checkout = order.GetProperty("checkout");
        Assert.Equal("stripe_payment_intent", checkout.GetProperty("type").GetString());
        Assert.Equal(FakeStripe.PublishableKey, checkout.GetProperty("publishable_key").GetString());
        var clientSecret = checkout.GetProperty("client_secret").GetString()!;
        var intentId = clientSecret[..clientSecret.IndexOf("_secret_", StringComparison.Ordinal)];
        var create = Assert.Single(s.Stripe.Requests, r => r.Method == "POST" && r.Path == "/v1/payment_intents");
        Assert.False(string.IsNullOrEmpty(create.IdempotencyKey));
        Assert.Equal("inr", s.Stripe.PaymentIntent(intentId)!.Value.GetProperty("currency").GetString());

        // Stripe delivers the success twice; Clearflow applies it once.
        s.Stripe.Habit = FakeStripe.Delivery.Duplicate;
        await s.Stripe.PayAsync(intentId);
        Assert.All(s.Stripe.WebhookAnswers, status => Assert.Equal(200, status));
        var paid = await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded");
        Assert.Equal(49_900, paid.GetProperty("amount_paid").GetInt64());
        Assert.Single(paid.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "status.changed");

        // The customer comes back through the return URL: a hint that makes Clearflow ask Stripe.
        using var anonymous = s.Host.CreateClient(authenticate: false);
        using (var back = await anonymous.GetAsync($"/v1/gateways/stripe/return?order_id={Api.Id(order)}&payment_intent={intentId}&redirect_status=succeeded"))
        {
            Assert.True((int)back.StatusCode < 400, await back.Content.ReadAsStringAsync());
        }
        await Api.WaitForOrderAsync(s.Api, Api.Id(order),
            o => o.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "gateway.status_fetched"), "status fetched after callback");

        // A partial refund: pending at Stripe first, then succeeded when Clearflow checks.
        using var refundRequest = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount = 10_000 }) };
        refundRequest.Headers.Add("Idempotency-Key", "stripe-refund-1");
        using var refundResponse = await s.Api.SendAsync(refundRequest);
        var refund = await refundResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, refundResponse.StatusCode);
        Assert.Equal("pending", refund.GetProperty("status").GetString());
        Assert.StartsWith("re_", refund.GetProperty("gateway_reference").GetString());
        await RunRefundChecksAsync(s);
        var settled = await s.Api.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds/{refund.GetProperty("id").GetString()}");
        Assert.Equal("succeeded", settled.GetProperty("status").GetString());
        Assert.Equal("partially_refunded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());

        // The rest: the order ends refunded.
        using var rest = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount = 39_900 }) };
        rest.Headers.Add("Idempotency-Key", "stripe-refund-2");
        using (var response = await s.Api.SendAsync(rest))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        await RunRefundChecksAsync(s);
        Assert.Equal("refunded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());
        Assert.Equal(2, s.Stripe.Requests.Count(r => r.Method == "POST" && r.Path == "/v1/refunds"));
    }

    [Fact]
    public async Task Declines_stay_open_and_reordered_or_forged_webhooks_change_nothing()
    {
        await using var s = await StartAsync();
        (await PutCredentialsAsync(s.Api, RightKeys)).Dispose();
        var order = await Api.CreateOrderAsync(s.Api);
        var secret = order.GetProperty("checkout").GetProperty("client_secret").GetString()!;
        var intentId = secret[..secret.IndexOf("_secret_", StringComparison.Ordinal)];

        // Decline then success, delivered in reverse: the success lands first and the late decline is ignored.
        s.Stripe.Habit = FakeStripe.Delivery.HeldThenReversed;
        await s.Stripe.DeclineAsync(intentId);
        await s.Stripe.PayAsync(intentId);
        await s.Stripe.ReleaseHeldAsync();
        await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded");
        await Api.WaitForOrderAsync(s.Api, Api.Id(order),
            o => o.GetProperty("timeline").EnumerateArray().Count(e => e.GetProperty("kind").GetString() == "webhook.received") == 2, "both webhooks processed");
        Assert.Equal("succeeded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());

        // Forged: signed with another secret, for an unknown merchant, or on the merchant-less URL.
        using var anonymous = s.Host.CreateClient(authenticate: false);
        var body = JsonSerializer.Serialize(new
        {
            id = "evt_forged", @object = "event", type = "payment_intent.canceled", created = 1,
            data = new { @object = new Dictionary<string, object> { ["id"] = intentId, ["object"] = "payment_intent", ["amount"] = 49_900, ["amount_received"] = 0,
                ["currency"] = "inr", ["status"] = "canceled", ["metadata"] = new Dictionary<string, string>() } },
        });
        async Task<HttpResponseMessage> PostAsync(string path, string signature)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            content.Headers.Add("Stripe-Signature", signature);
            return await anonymous.PostAsync(path, content);
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var forged = await PostAsync($"/v1/gateways/stripe/webhooks/{s.MerchantId}", FakeStripe.Sign(body, "whsec_not_the_secret", now)))
        {
            await Api.ProblemAsync(forged, HttpStatusCode.Unauthorized, "webhook-signature-invalid");
        }
        using (var unknownMerchant = await PostAsync("/v1/gateways/stripe/webhooks/mer_nobody", FakeStripe.Sign(body, FakeStripe.WebhookSecret, now)))
        {
            await Api.ProblemAsync(unknownMerchant, HttpStatusCode.NotFound, "not-found");
        }
        using (var noMerchant = await PostAsync("/v1/gateways/stripe/webhooks", FakeStripe.Sign(body, FakeStripe.WebhookSecret, now)))
        {
            await Api.ProblemAsync(noMerchant, HttpStatusCode.NotFound, "webhook-url-incomplete");
        }
        Assert.Equal("succeeded", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task When_stripe_is_down_creating_an_order_is_a_clear_503_and_resumes_with_the_same_key()
    {
        await using var s = await StartAsync();
        (await PutCredentialsAsync(s.Api, RightKeys)).Dispose();
        var body = Api.OrderBody(Api.NewReceipt());
        s.Stripe.Unreachable = true;
        using (var down = await Api.PostOrderAsync(s.Api, body, "key-stripe-down"))
        {
            var problem = await Api.ProblemAsync(down, HttpStatusCode.ServiceUnavailable, "gateway-unavailable");
            Assert.Contains("stripe", problem.GetProperty("detail").GetString());
        }
        s.Stripe.Unreachable = false;
        using var resumed = await Api.PostOrderAsync(s.Api, body, "key-stripe-down");
        Assert.Equal(HttpStatusCode.Created, resumed.StatusCode);
        // The same idempotency key went to Stripe both times (its answer to the first may have been lost).
        var keys = s.Stripe.Requests.Where(r => r.Path == "/v1/payment_intents" && r.Method == "POST").Select(r => r.IdempotencyKey).Distinct().ToArray();
        Assert.Single(keys);

        s.Stripe.FailNextRequests(1, 400);
        using var refused = await Api.PostOrderAsync(s.Api, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString());
        var rejected = await Api.ProblemAsync(refused, HttpStatusCode.BadGateway, "gateway-rejected");
        Assert.Contains("stripe refused the request (400", rejected.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task While_stripe_is_failing_new_orders_go_to_the_next_gateway_and_come_back_when_it_recovers()
    {
        await using var s = await StartAsync();
        (await PutCredentialsAsync(s.Api, RightKeys)).Dispose();
        using (var put = await s.Api.PutAsync("/v1/merchant/settings", new StringContent(
                   """{"gateways":["sandbox","stripe"],"default_gateway":"stripe","routing":[{"gateway":"stripe","currencies":["INR"]},{"gateway":"sandbox"}]}""",
                   Encoding.UTF8, "application/json")))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        async Task<(HttpStatusCode Status, string? Gateway)> OrderAsync()
        {
            using var response = await Api.PostOrderAsync(s.Api, Api.OrderBody(Api.NewReceipt()), Guid.NewGuid().ToString());
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (response.StatusCode, body.TryGetProperty("gateway", out var g) ? g.GetString() : null);
        }
        async Task<string> CircuitAsync() => (await s.Api.GetFromJsonAsync<JsonElement>("/v1/merchant/gateways"))
            .EnumerateArray().Single(g => g.GetProperty("gateway").GetString() == "stripe").GetProperty("circuit").GetString()!;

        var firstKey = Guid.NewGuid().ToString();
        var firstBody = Api.OrderBody(Api.NewReceipt());
        using (var first = await Api.PostOrderAsync(s.Api, firstBody, firstKey))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }
        s.Stripe.Unreachable = true;
        for (var i = 0; i < Application.Gateways.GatewayHealth.FailureThreshold; i++)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await OrderAsync()).Status);
        }
        Assert.Equal("open", await CircuitAsync());
        var (_, _, emails) = await DashboardClient.NewMerchantWithUsersAsync(s.Host);
        using (var dashboard = new DashboardClient(s.Host))
        {
            (await dashboard.SignInAsync(emails[Application.Dashboard.DashboardRoles.Viewer])).Dispose();
            Assert.Matches("<td>stripe</td>\\s*<td>[^<]*</td>\\s*<td>open", await dashboard.GetHtmlAsync("/dashboard"));
        }
        var routed = await OrderAsync();
        Assert.Equal((HttpStatusCode.Created, "sandbox"), routed);

        // Stripe is back; after the cool-down one order tries it, and it is used again.
        s.Stripe.Unreachable = false;
        s.Clock.Advance(Application.Gateways.GatewayHealth.CoolDown + TimeSpan.FromSeconds(1));
        Assert.Equal("half_open", await CircuitAsync());
        // A retry of a finished request replays its reply and does not use up the one trial.
        using (var replayed = await Api.PostOrderAsync(s.Api, firstBody, firstKey))
        {
            Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
            Assert.Equal("stripe", (await replayed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("gateway").GetString());
        }
        Assert.Equal((HttpStatusCode.Created, "stripe"), await OrderAsync());
        Assert.Equal("closed", await CircuitAsync());
        Assert.Equal((HttpStatusCode.Created, "stripe"), await OrderAsync());

        // An order that names its gateway is not rerouted; bad rules are refused when saved.
        using var badRules = await s.Api.PutAsync("/v1/merchant/settings", new StringContent(
            """{"gateways":["sandbox"],"routing":[{"gateway":"stripe","currencies":["XXQ"],"min_amount":5,"max_amount":1}]}""", Encoding.UTF8, "application/json"));
        var problem = await Api.ProblemAsync(badRules, HttpStatusCode.UnprocessableEntity, "validation-failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("routing[0].gateway", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("routing[0].currencies", out _));
    }

    [Fact]
    public async Task Reads_and_idempotent_writes_are_retried_on_transient_errors_within_the_call()
    {
        await using var s = await StartAsync();
        (await PutCredentialsAsync(s.Api, RightKeys)).Dispose();
        // The create carries an Idempotency-Key: two 503s, then it goes through on the third try, same key.
        s.Stripe.FailNextRequests(2, 503);
        var order = await Api.CreateOrderAsync(s.Api);
        var creates = s.Stripe.Requests.Where(r => r.Method == "POST" && r.Path == "/v1/payment_intents").ToArray();
        Assert.Equal(3, creates.Length);
        Assert.Single(creates.Select(r => r.IdempotencyKey).Distinct());

        // A status read is retried too.
        var secret = order.GetProperty("checkout").GetProperty("client_secret").GetString()!;
        var intentId = secret[..secret.IndexOf("_secret_", StringComparison.Ordinal)];
        s.Stripe.WebhookTarget = null;
        await s.Stripe.PayAsync(intentId);
        s.Stripe.FailNextRequests(1, 500);
        using (var scope = s.Host.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<Application.Checks.RecheckOrder>().HandleAsync(s.MerchantId, Api.Id(order), default)).IsSuccess);
        }
        await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded after a retried read");
        Assert.Equal(2, s.Stripe.Requests.Count(r => r.Method == "GET" && r.Path == $"/v1/payment_intents/{intentId}"));
    }

    [Fact]
    public async Task Settlement_lines_come_from_balance_transactions_and_name_their_orders()
    {
        await using var s = await StartAsync();
        (await PutCredentialsAsync(s.Api, RightKeys)).Dispose();
        var order = await Api.CreateOrderAsync(s.Api, amount: 100_000);
        var secret = order.GetProperty("checkout").GetProperty("client_secret").GetString()!;
        await s.Stripe.PayAsync(secret[..secret.IndexOf("_secret_", StringComparison.Ordinal)]);
        await Api.WaitForOrderAsync(s.Api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded");
        using (var refund = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{Api.Id(order)}/refunds") { Content = JsonContent.Create(new { amount = 25_000 }) })
        {
            refund.Headers.Add("Idempotency-Key", "stripe-settle-refund");
            (await s.Api.SendAsync(refund)).Dispose();
        }
        await RunRefundChecksAsync(s);

        var date = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var report = await s.Api.GetFromJsonAsync<JsonElement>($"/v1/merchant/gateways/stripe/settlements?from={date}");
        var lines = report.GetProperty("lines").EnumerateArray().ToArray();
        var fee = FakeStripe.FeeFor(100_000);
        var payment = Assert.Single(lines, l => l.GetProperty("kind").GetString() == "payment");
        Assert.Equal((Api.Id(order), 100_000L, fee, 100_000 - fee),
            (payment.GetProperty("order_id").GetString(), payment.GetProperty("gross").GetInt64(), payment.GetProperty("fee").GetInt64(), payment.GetProperty("net").GetInt64()));
        var refundLine = Assert.Single(lines, l => l.GetProperty("kind").GetString() == "refund");
        Assert.Equal((Api.Id(order), 25_000L, -25_000L), (refundLine.GetProperty("order_id").GetString(), refundLine.GetProperty("gross").GetInt64(),
            refundLine.GetProperty("net").GetInt64()));
        Assert.Equal(100_000 - fee - 25_000, Assert.Single(report.GetProperty("totals").EnumerateArray()).GetProperty("net").GetInt64());
    }

    [Fact]
    public async Task A_merchant_cannot_move_another_merchants_order_with_a_webhook_signed_by_its_own_secret()
    {
        await using var s = await StartAsync();
        (await PutCredentialsAsync(s.Api, RightKeys)).Dispose();
        var order = await Api.CreateOrderAsync(s.Api);
        var secret = order.GetProperty("checkout").GetProperty("client_secret").GetString()!;
        var intentId = secret[..secret.IndexOf("_secret_", StringComparison.Ordinal)];

        // Merchant B configures Stripe with a webhook secret it knows, then signs an event about A's intent.
        using var scope = s.Host.Services.CreateScope();
        var other = (await scope.ServiceProvider.GetRequiredService<CreateMerchant>().HandleAsync("Other " + Guid.NewGuid().ToString("N")[..8], default)).Value!;
        var otherKey = (await scope.ServiceProvider.GetRequiredService<IssueApiKey>().HandleAsync(other.Id, "test", default)).Value!.SecretKey;
        using var otherApi = s.Host.CreateClient(otherKey);
        (await PutCredentialsAsync(otherApi, new(RightKeys) { ["webhook_secret"] = "whsec_attacker_chosen" })).Dispose();
        var body = JsonSerializer.Serialize(new
        {
            id = "evt_cross", @object = "event", type = "payment_intent.succeeded", created = 1,
            data = new { @object = new Dictionary<string, object> { ["id"] = intentId, ["object"] = "payment_intent", ["amount"] = 49_900, ["amount_received"] = 49_900,
                ["currency"] = "inr", ["status"] = "succeeded", ["metadata"] = new Dictionary<string, string> { ["clearflow_order_id"] = Api.Id(order) } } },
        });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add("Stripe-Signature", FakeStripe.Sign(body, "whsec_attacker_chosen", s.Clock.GetUtcNow().ToUnixTimeSeconds()));
        using var anonymous = s.Host.CreateClient(authenticate: false);
        using var response = await anonymous.PostAsync($"/v1/gateways/stripe/webhooks/{other.Id}", content);
        await Api.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal("created", (await Api.GetOrderAsync(s.Api, Api.Id(order))).GetProperty("status").GetString());
    }
}

/// <summary>Stripe's signature scheme on its own: the real header format, tampering, wrong secret, staleness.</summary>
public sealed class StripeSignatureTests
{
    private const string Secret = "whsec_test_secret";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"evt_1","type":"payment_intent.succeeded"}""");
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private static string Header(long t, params string[] v1) => $"t={t}," + string.Join(',', v1.Select(v => "v1=" + v));

    [Fact]
    public void The_real_format_is_accepted_with_any_matching_v1()
    {
        var t = Now.ToUnixTimeSeconds();
        var good = StripeSignature.Compute(Secret, t, Body);
        Assert.Null(StripeSignature.Verify(Header(t, good), Secret, Body, Now, Tolerance));
        Assert.Null(StripeSignature.Verify(Header(t, new string('0', 64), good) + ",v0=ignored", Secret, Body, Now, Tolerance));
        Assert.Equal(good, FakeStripe.Sign(Encoding.UTF8.GetString(Body), Secret, t)[(FakeStripe.Sign(Encoding.UTF8.GetString(Body), Secret, t).IndexOf("v1=", StringComparison.Ordinal) + 3)..]);
    }

    [Fact]
    public void A_tampered_body_a_wrong_secret_a_stale_timestamp_and_a_missing_header_are_refused()
    {
        var t = Now.ToUnixTimeSeconds();
        var header = Header(t, StripeSignature.Compute(Secret, t, Body));
        var tampered = Body.ToArray();
        tampered[^2] ^= 1;
        Assert.NotNull(StripeSignature.Verify(header, Secret, tampered, Now, Tolerance));
        Assert.NotNull(StripeSignature.Verify(header, "whsec_other", Body, Now, Tolerance));
        Assert.Contains("timestamp", StripeSignature.Verify(header, Secret, Body, Now.AddMinutes(6), Tolerance));
        Assert.NotNull(StripeSignature.Verify(null, Secret, Body, Now, Tolerance));
        Assert.NotNull(StripeSignature.Verify("v1=abc", Secret, Body, Now, Tolerance));
        // Moving the timestamp breaks the signature, since t is signed.
        Assert.NotNull(StripeSignature.Verify(Header(t + 1, StripeSignature.Compute(Secret, t, Body)), Secret, Body, Now, Tolerance));
    }
}

[Collection(ServerCollection.Name)]
public sealed class StripeOnSqlite(ServerEnvironment environment) : StripeTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class StripeOnPostgres(ServerEnvironment environment) : StripeTests(environment, StoreKind.Postgres);
