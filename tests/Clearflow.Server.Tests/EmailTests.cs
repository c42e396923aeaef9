using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Customer and operator email over a real SMTP server started by the test.</summary>
public abstract class EmailTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private async Task<(ClearflowTestHost Host, FakeTimeProvider Clock)> StartAsync(FakeSmtpServer smtp, Uri? textProvider = null)
    {
        var clock = new FakeTimeProvider(StatusCheckTests.Start);
        var settings = StatusCheckTests.Workers();
        settings["Clearflow:Smtp:Host"] = "127.0.0.1";
        settings["Clearflow:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Clearflow:Smtp:Security"] = "none";
        settings["Clearflow:Smtp:From"] = "Demo Shop <payments@shop.example>";
        settings["Clearflow:TextMessages:ProviderUrl"] = textProvider?.ToString();
        var host = await Environment.StartExtraHostAsync(kind, s => s.AddSingleton<TimeProvider>(clock), settings);
        return (host, clock);
    }

    private static async Task PutSettingsAsync(HttpClient client, string json)
    {
        using var response = await client.PutAsync("/v1/merchant/settings", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_customer_gets_one_email_per_message_from_the_merchants_template_even_with_duplicate_events()
    {
        await using var smtp = FakeSmtpServer.Start();
        var (host, _) = await StartAsync(smtp);
        using var client = host.CreateClient();
        await PutSettingsAsync(client, """
            {"notifications":{"templates":{"customer.order_succeeded":{
              "subject":"Thanks for order {{receipt}}",
              "text":"Dear {{customer_name}}, we got {{amount}} {{currency}}.",
              "html":"<p>Dear {{customer_name}}, we got <b>{{amount}} {{currency}}</b>.</p>"}}}}
            """);
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", webhook: "duplicate");
        await Api.WaitForStatusAsync(client, Api.Id(order), "succeeded");
        await Task.Delay(300);
        await NotificationTests.RunNotificationsAsync(host);

        var mail = Assert.Single(smtp.Messages);
        Assert.Equal("asha@example.com", mail.To.Mailboxes.Single().Address);
        Assert.Equal($"Thanks for order {order.GetProperty("receipt").GetString()}", mail.Subject);
        Assert.Equal("Dear Asha, we got 499.00 INR.", mail.TextBody?.Trim());
        Assert.Contains("<b>499.00 INR</b>", mail.HtmlBody);
        Assert.Contains(Api.TimelineKinds(await Api.GetOrderAsync(client, Api.Id(order))), k => k == "notification.delivered");
    }

    [Fact]
    public async Task A_customer_with_an_address_and_a_phone_gets_one_email_and_one_text_per_message()
    {
        await using var smtp = FakeSmtpServer.Start();
        await using var textProvider = await FakeMerchantEndpoint.StartAsync();
        var (host, _) = await StartAsync(smtp, textProvider.Url);
        using var client = host.CreateClient();
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "failure", webhook: "duplicate");
        await Api.WaitForStatusAsync(client, Api.Id(order), "failed");
        await Task.Delay(300);
        await NotificationTests.RunNotificationsAsync(host);

        Assert.Contains("did not go through", Assert.Single(smtp.Messages).Subject);
        var text = JsonDocument.Parse(Assert.Single(textProvider.Requests).Body).RootElement;
        Assert.Equal("+919876543210", text.GetProperty("to").GetString());
        Assert.Contains("failed. No money was taken.", text.GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_smtp_failure_is_retried_and_recorded_and_operators_get_review_notices()
    {
        await using var smtp = FakeSmtpServer.Start();
        var (host, clock) = await StartAsync(smtp);
        using var client = host.CreateClient();
        await PutSettingsAsync(client, """{"notifications":{"operator_emails":["ops@shop.example"],"customer_email":false}}""");
        var order = await Api.CreateOrderAsync(client);
        await Api.CompleteCheckoutAsync(host, order, "success", reportAmount: 1); // a wrong amount: review
        await Api.WaitForStatusAsync(client, Api.Id(order), "requires_review");

        smtp.RefuseNext(1);
        await NotificationTests.RunNotificationsAsync(host);
        Assert.Empty(smtp.Messages);
        clock.Advance(TimeSpan.FromMinutes(1));
        await NotificationTests.RunNotificationsAsync(host);

        var mail = Assert.Single(smtp.Messages);
        Assert.Equal("ops@shop.example", mail.To.Mailboxes.Single().Address);
        Assert.Contains("order requires review", mail.Subject);
        Assert.Contains("gateway reported amount 1", mail.TextBody);
        var notifications = await client.GetFromJsonAsync<JsonElement[]>($"/v1/orders/{Api.Id(order)}/notifications") ?? [];
        var email = Assert.Single(notifications, n => n.GetProperty("channel").GetString() == "email");
        Assert.Equal("delivered", email.GetProperty("status").GetString());
        Assert.Equal("o***@shop.example", email.GetProperty("target").GetString());
        var attempts = email.GetProperty("attempt_log").EnumerateArray().ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Contains("try again later", attempts[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_template_with_an_unknown_placeholder_is_refused_when_saved()
    {
        await using var smtp = FakeSmtpServer.Start();
        var (host, _) = await StartAsync(smtp);
        using var client = host.CreateClient();
        using var response = await client.PutAsync("/v1/merchant/settings", new StringContent(
            """{"notifications":{"templates":{"customer.order_succeeded":{"subject":"Hi {{first_name}}","text":"x","html":"x"}}}}""", Encoding.UTF8, "application/json"));
        var problem = await Api.ProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation-failed");
        Assert.Contains("first_name", problem.GetProperty("errors").GetProperty("notifications.templates.customer.order_succeeded")[0].GetString());
        using var badAddress = await client.PutAsync("/v1/merchant/settings", new StringContent(
            """{"notifications":{"operator_emails":["not-an-address"]}}""", Encoding.UTF8, "application/json"));
        await Api.ProblemAsync(badAddress, HttpStatusCode.UnprocessableEntity, "validation-failed");
    }
}

[Collection(ServerCollection.Name)]
public sealed class EmailOnSqlite(ServerEnvironment environment) : EmailTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class EmailOnPostgres(ServerEnvironment environment) : EmailTests(environment, StoreKind.Postgres);
