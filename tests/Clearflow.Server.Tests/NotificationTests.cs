using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Notifications;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Signed merchant webhooks from the outbox: once per endpoint and event, retried, replayed, disabled.</summary>
public abstract class NotificationTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private async Task<(ClearflowTestHost Host, FakeTimeProvider Clock)> StartAsync(Application.Abstractions.IPipelineFaults? faults = null,
        Dictionary<string, string?>? settings = null)
    {
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var values = StatusCheckTests.Workers();
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }
        var host = await Environment.StartExtraHostAsync(kind, s =>
        {
            s.AddSingleton<TimeProvider>(clock);
            if (faults is not null)
            {
                s.AddSingleton(faults);
            }
        }, values);
        return (host, clock);
    }

    public static async Task<List<Exception>> RunNotificationsAsync(ClearflowTestHost host)
    {
        var crashes = new List<Exception>();
        for (var round = 0; round < 20; round++)
        {
            using var scope = host.Services.CreateScope();
            // As the notification worker does: the round's new deliveries at once, then whatever else is due.
            var dispatched = await scope.ServiceProvider.GetRequiredService<DispatchOutbox>().HandleAsync(100, default);
            var deliver = scope.ServiceProvider.GetRequiredService<DeliverNotifications>();
            int sent;
            try
            {
                await deliver.DeliverClaimedAsync(dispatched, default);
                sent = dispatched.Claimed.Count + await deliver.HandleAsync(100, default);
            }
            catch (SimulatedCrashException ex)
            {
                crashes.Add(ex);
                continue;
            }
            if (dispatched.MessagesRead == 0 && sent == 0)
            {
                return crashes;
            }
        }
        Assert.Fail("Notifications did not settle in 20 rounds.");
        return crashes;
    }

    private static async Task<JsonElement> AddEndpointAsync(HttpClient client, Uri url, params string[] eventTypes)
    {
        using var response = await client.PostAsJsonAsync("/v1/webhook-endpoints", new { url = url.ToString(), event_types = eventTypes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Standard Webhooks verification written here, independently of Clearflow's signer.</summary>
    private static bool Verifies(string secret, FakeMerchantEndpoint.Received request)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{request.WebhookId}.{request.Timestamp}.{request.Body}")));
        return request.Signature!.Split(' ').Contains(expected);
    }

    private static IEnumerable<string> Types(FakeMerchantEndpoint endpoint) =>
        endpoint.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString()!);

    [Fact]
    public async Task Each_transition_gives_one_signed_webhook_per_subscribed_endpoint_even_with_duplicate_events()
    {
        var (host, _) = await StartAsync();
        await using var all = await FakeMerchantEndpoint.StartAsync();
        await using var succeededOnly = await FakeMerchantEndpoint.StartAsync();
        await using var refundsOnly = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        var allSecret = (await AddEndpointAsync(client, all.Url, "*")).GetProperty("secret").GetString()!;
        var succeededSecret = (await AddEndpointAsync(client, succeededOnly.Url, "order.succeeded")).GetProperty("secret").GetString()!;
        await AddEndpointAsync(client, refundsOnly.Url, "refund.succeeded");

        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "duplicate");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        await Task.Delay(300); // the duplicate gateway webhook has been processed too
        Assert.Empty(await RunNotificationsAsync(host));

        Assert.Equal(["order.created", "order.succeeded"], Types(all).Order());
        Assert.Equal(["order.succeeded"], Types(succeededOnly));
        Assert.Empty(refundsOnly.Requests);
        Assert.All(all.Requests, r => Assert.True(Verifies(allSecret, r)));
        Assert.True(Verifies(succeededSecret, Assert.Single(succeededOnly.Requests)));
        Assert.False(Verifies(allSecret, Assert.Single(succeededOnly.Requests)));
        var data = JsonDocument.Parse(succeededOnly.Requests.Single().Body).RootElement.GetProperty("data");
        Assert.Equal(Api.Id(order), data.GetProperty("order_id").GetString());

        var view = await Api.GetOrderAsync(client, Api.Id(order));
        Assert.Equal(3, Api.TimelineKinds(view).Count(k => k == "notification.delivered"));
        var notifications = await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/notifications") ?? [];
        Assert.All(notifications, n => Assert.Equal(200, n.GetProperty("attempt_log")[0].GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task The_endpoint_s_answer_is_kept_with_the_attempt_up_to_500_characters_and_never_half_a_character()
    {
        var (host, _) = await StartAsync();
        await using var brief = await FakeMerchantEndpoint.StartAsync();
        await using var verbose = await FakeMerchantEndpoint.StartAsync();
        brief.AnswerBody = "got it, thanks \u00e9";
        // 499 characters, then one that takes two UTF-16 halves, straddling the 500-character cut, then more.
        verbose.AnswerBody = new string('a', 499) + "\U0001F600" + new string('b', 5000);
        using var client = host.CreateClient();
        var briefId = (await AddEndpointAsync(client, brief.Url, "order.created")).GetProperty("id").GetString();
        await AddEndpointAsync(client, verbose.Url, "order.created");

        var order = await Api.CreateOrderAsync(client);
        Assert.Empty(await RunNotificationsAsync(host));

        var notifications = await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/notifications") ?? [];
        Assert.Equal(2, notifications.Length);
        foreach (var notification in notifications)
        {
            var excerpt = notification.GetProperty("attempt_log")[0].GetProperty("response_excerpt").GetString();
            Assert.Equal(notification.GetProperty("target").GetString() == briefId ? "got it, thanks \u00e9" : new string('a', 499), excerpt);
        }
    }

    [Fact]
    public async Task An_answer_with_a_NUL_character_is_kept_with_a_replacement_character_and_the_delivery_is_recorded_once()
    {
        var (host, _) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        merchant.AnswerBody = "ok\0done"; // PostgreSQL's text cannot hold U+0000
        using var client = host.CreateClient();
        await AddEndpointAsync(client, merchant.Url, "order.created");

        var order = await Api.CreateOrderAsync(client);
        Assert.Empty(await RunNotificationsAsync(host));

        var notification = Assert.Single(await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/notifications") ?? []);
        Assert.Equal("delivered", notification.GetProperty("status").GetString());
        Assert.Equal("ok\uFFFDdone", Assert.Single(notification.GetProperty("attempt_log").EnumerateArray()).GetProperty("response_excerpt").GetString());
        Assert.Single(merchant.Requests);
    }

    [Fact]
    public async Task A_delivery_round_reads_an_endpoint_again_once_its_copy_is_5_s_old_and_sends_nothing_to_a_deleted_one()
    {
        var (host, clock) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        var endpointId = (await AddEndpointAsync(client, merchant.Url, "order.created")).GetProperty("id").GetString()!;
        var orders = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            orders.Add(Api.Id(await Api.CreateOrderAsync(client))); // 12 deliveries for one round, which sends 8 at a time
        }
        // While the first request waits for its answer, the merchant deletes the endpoint and the round's clock
        // moves 6 s on; no request is answered before that, so every delivery started later finds its copy old.
        var deletion = new Lazy<Task>(async () =>
        {
            using var deleted = await client.DeleteAsync($"/v1/webhook-endpoints/{endpointId}");
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            clock.Advance(TimeSpan.FromSeconds(6));
        });
        merchant.BeforeAnswer = () => deletion.Value;

        Assert.Empty(await RunNotificationsAsync(host));

        var statuses = new List<string>();
        foreach (var orderId in orders)
        {
            var notifications = await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{orderId}/notifications") ?? [];
            statuses.Add(Assert.Single(notifications).GetProperty("status").GetString()!);
        }
        Assert.InRange(merchant.Requests.Count, 1, 8);
        Assert.Equal(merchant.Requests.Count, statuses.Count(s => s == "delivered"));
        Assert.Equal(12 - merchant.Requests.Count, statuses.Count(s => s == "abandoned"));
    }

    /// <summary>A node whose merchant has one endpoint for order.created, and a new order whose message waits in the outbox.</summary>
    private async Task<(ClearflowTestHost Host, FakeTimeProvider Clock, FakeMerchantEndpoint Merchant, HttpClient Client, JsonElement Order)> OrderForOneSubscriberAsync()
    {
        var (host, clock) = await StartAsync();
        var merchant = await FakeMerchantEndpoint.StartAsync();
        var client = host.CreateClient();
        await AddEndpointAsync(client, merchant.Url, "order.created");
        return (host, clock, merchant, client, await Api.CreateOrderAsync(client));
    }

    [Fact]
    public async Task A_delivery_whose_node_stopped_before_sending_it_goes_out_once_when_the_lease_ends()
    {
        var (host, clock, merchant, client, order) = await OrderForOneSubscriberAsync();
        await using var merchantLifetime = merchant;
        using var clientLifetime = client;
        using (var scope = host.Services.CreateScope())
        {
            // A node fans the message out, leasing the new delivery to itself, and stops before sending it.
            var round = await scope.ServiceProvider.GetRequiredService<DispatchOutbox>().HandleAsync(100, default);
            Assert.Single(round.Claimed);
        }
        Assert.Empty(await RunNotificationsAsync(host));
        Assert.Empty(merchant.Requests); // still leased to the node that stopped

        clock.Advance(DeliverNotifications.Lease);
        Assert.Empty(await RunNotificationsAsync(host));
        var request = Assert.Single(merchant.Requests);
        var notification = Assert.Single(await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/notifications") ?? []);
        Assert.Equal(("delivered", request.WebhookId, 1), (notification.GetProperty("status").GetString(), notification.GetProperty("id").GetString(),
            notification.GetProperty("attempt_log").GetArrayLength()));
    }

    [Fact]
    public async Task A_delivery_whose_lease_is_nearly_over_is_not_sent_by_its_round_but_once_by_the_claim_after_it()
    {
        var (host, clock, merchant, client, _) = await OrderForOneSubscriberAsync();
        await using var merchantLifetime = merchant;
        using var clientLifetime = client;
        using (var scope = host.Services.CreateScope())
        {
            // A long round reaches this delivery with 5 s of its lease left: less than a send may take.
            var round = await scope.ServiceProvider.GetRequiredService<DispatchOutbox>().HandleAsync(100, default);
            clock.Advance(DeliverNotifications.Lease - TimeSpan.FromSeconds(5));
            await scope.ServiceProvider.GetRequiredService<DeliverNotifications>().DeliverClaimedAsync(round, default);
        }
        Assert.Empty(merchant.Requests);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(await RunNotificationsAsync(host));
        Assert.Single(merchant.Requests);
    }

    [Fact]
    public async Task A_crash_after_sending_resends_with_the_same_webhook_id_and_nothing_more()
    {
        var crash = new CrashOnce("notify.sent");
        var (host, clock) = await StartAsync(crash);
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        await AddEndpointAsync(client, merchant.Url, "order.succeeded");
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");

        Assert.Single(await RunNotificationsAsync(host));
        clock.Advance(DeliverNotifications.Lease + TimeSpan.FromSeconds(1));
        Assert.Empty(await RunNotificationsAsync(host));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await RunNotificationsAsync(host));

        Assert.Equal(2, merchant.Requests.Count);
        Assert.Single(merchant.Requests.Select(r => r.WebhookId).Distinct());
    }

    [Fact]
    public async Task A_failing_endpoint_is_retried_on_schedule_then_given_up_and_disabled_and_the_operators_told()
    {
        var (host, clock) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        merchant.Answer(Enumerable.Repeat(500, 50).ToArray());
        using var client = host.CreateClient();
        var endpoint = await AddEndpointAsync(client, merchant.Url, "order.succeeded");
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");

        await RunNotificationsAsync(host);
        Assert.Single(merchant.Requests);
        var schedule = new[] { 1, 5, 30, 120, 360, 720, 1440, 1440 }.Select(m => TimeSpan.FromMinutes(m)).ToList();
        foreach (var (wait, attempt) in schedule.Select((w, i) => (w, i + 2)))
        {
            clock.Advance(wait - TimeSpan.FromSeconds(1));
            await RunNotificationsAsync(host);
            Assert.Equal(attempt - 1, merchant.Requests.Count); // not yet
            clock.Advance(TimeSpan.FromSeconds(1));
            await RunNotificationsAsync(host);
            Assert.Equal(attempt, merchant.Requests.Count);
        }
        clock.Advance(TimeSpan.FromDays(2));
        await RunNotificationsAsync(host);
        Assert.Equal(9, merchant.Requests.Count); // given up after 3 days

        var deliveries = await client.GetFromJsonAsync<JsonElement[]>($"/v1/webhook-endpoints/{endpoint.GetProperty("id").GetString()}/deliveries") ?? [];
        var delivery = Assert.Single(deliveries);
        Assert.Equal("abandoned", delivery.GetProperty("status").GetString());
        Assert.Equal(9, delivery.GetProperty("attempt_log").GetArrayLength());
        Assert.All(delivery.GetProperty("attempt_log").EnumerateArray(), a => Assert.Equal(500, a.GetProperty("status_code").GetInt32()));

        // Failing without a success for 3 days: disabled, and the operators hear of it.
        var endpoints = await client.GetFromJsonAsync<JsonElement[]>("/v1/webhook-endpoints") ?? [];
        Assert.Equal("disabled", Assert.Single(endpoints).GetProperty("status").GetString());
        var merchantId = (await host.Store.GetOrderAsync(Api.Id(order), default))!.MerchantId;
        Assert.Single(await host.Store.ListOutboxMessagesAsync(merchantId, null, default), m => m.Topic == "operator.webhook_endpoint_disabled");

        // Replay after fixing and enabling the endpoint: delivered, with the same webhook-id.
        var firstId = merchant.Requests.First().WebhookId;
        using (var refused = await client.PostAsync($"/v1/webhook-deliveries/{delivery.GetProperty("id").GetString()}/replay", null))
        {
            await Api.ProblemAsync(refused, HttpStatusCode.Conflict, "endpoint-disabled");
        }
        merchant.AnswerOk();
        using (var enable = await client.PostAsync($"/v1/webhook-endpoints/{endpoint.GetProperty("id").GetString()}/enable", null))
        {
            Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        }
        using (var replay = await client.PostAsync($"/v1/webhook-deliveries/{delivery.GetProperty("id").GetString()}/replay", null))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        }
        await RunNotificationsAsync(host);
        Assert.Equal(10, merchant.Requests.Count);
        Assert.Equal(firstId, merchant.Requests.Last().WebhookId);
        var replayed = Assert.Single(await client.GetFromJsonAsync<JsonElement[]>($"/v1/webhook-endpoints/{endpoint.GetProperty("id").GetString()}/deliveries") ?? []);
        Assert.Equal("delivered", replayed.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_endpoint_that_takes_a_retried_delivery_is_no_longer_failing()
    {
        var (host, clock) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        merchant.Answer(500);
        using var client = host.CreateClient();
        var endpointId = (await AddEndpointAsync(client, merchant.Url, "order.succeeded")).GetProperty("id").GetString();
        async Task<JsonElement> FailingSinceAsync() =>
            (await client.GetFromJsonAsync<JsonElement[]>("/v1/webhook-endpoints") ?? []).Single(e => e.GetProperty("id").GetString() == endpointId)
                .TryGetProperty("failing_since", out var since) ? since : default;
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");

        await RunNotificationsAsync(host);
        Assert.Equal(JsonValueKind.String, (await FailingSinceAsync()).ValueKind); // the first attempt got a 500

        clock.Advance(TimeSpan.FromMinutes(1));
        await RunNotificationsAsync(host);
        Assert.Equal(2, merchant.Requests.Count);
        Assert.True((await FailingSinceAsync()).ValueKind is JsonValueKind.Undefined or JsonValueKind.Null); // the retry got through: the streak ended
    }

    [Fact]
    public async Task During_a_secret_rotation_both_secrets_sign_and_afterwards_only_the_new_one()
    {
        var (host, clock) = await StartAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        using var client = host.CreateClient();
        var endpoint = await AddEndpointAsync(client, merchant.Url, "order.created");
        var oldSecret = endpoint.GetProperty("secret").GetString()!;
        using var rotate = await client.PostAsync($"/v1/webhook-endpoints/{endpoint.GetProperty("id").GetString()}/rotate-secret?overlap=01:00:00", null);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var newSecret = (await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);

        await Api.CreateOrderAsync(client);
        await RunNotificationsAsync(host);
        var during = Assert.Single(merchant.Requests);
        Assert.True(Verifies(oldSecret, during));
        Assert.True(Verifies(newSecret, during));

        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await Api.CreateOrderAsync(client);
        await RunNotificationsAsync(host);
        var after = merchant.Requests.Last();
        Assert.True(Verifies(newSecret, after));
        Assert.False(Verifies(oldSecret, after));
    }

    [Fact]
    public async Task Endpoints_on_internal_addresses_unknown_events_and_bad_urls_are_refused_when_saved()
    {
        var (host, _) = await StartAsync(settings: new() { ["Clearflow:Notifications:AllowPrivateTargets"] = "false" });
        using var client = host.CreateClient();
        async Task ExpectAsync(object body, string field)
        {
            using var response = await client.PostAsJsonAsync("/v1/webhook-endpoints", body);
            var problem = await Api.ProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation-failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }
        await ExpectAsync(new { url = "http://127.0.0.1:9/hook", event_types = new[] { "*" } }, "url");
        await ExpectAsync(new { url = "http://169.254.169.254/latest/meta-data", event_types = new[] { "*" } }, "url");
        await ExpectAsync(new { url = "https://10.1.2.3/hook", event_types = new[] { "*" } }, "url");
        await ExpectAsync(new { url = "http://[::1]/hook", event_types = new[] { "*" } }, "url");
        await ExpectAsync(new { url = "http://localhost/hook", event_types = new[] { "*" } }, "url");
        await ExpectAsync(new { url = "ftp://example.com/hook", event_types = new[] { "*" } }, "url");
        await ExpectAsync(new { url = "https://93.184.216.34/hook", event_types = new[] { "order.paid" } }, "event_types");
        await ExpectAsync(new { url = "https://93.184.216.34/hook", event_types = Array.Empty<string>() }, "event_types");
        Assert.Empty(await client.GetFromJsonAsync<JsonElement[]>("/v1/webhook-endpoints") ?? []);

        using var ok = await client.PostAsJsonAsync("/v1/webhook-endpoints", new { url = "https://93.184.216.34/hook", event_types = new[] { "order.succeeded" } });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
    }
}

[Collection(ServerCollection.Name)]
public sealed class NotificationsOnSqlite(ServerEnvironment environment) : NotificationTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class NotificationsOnPostgres(ServerEnvironment environment) : NotificationTests(environment, StoreKind.Postgres);
