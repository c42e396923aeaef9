using System.Net.Http.Json;
using System.Text.Json;
using Clearflow.Application.Dashboard;
using Clearflow.TestSupport;
using Microsoft.Playwright;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// The dashboard in a real browser (Debian's Chromium through Playwright): an operator signs in, finds a
/// payment, reads its timeline, refunds it and sees the refund appear; a viewer cannot refund. Screenshots
/// of each step are kept under artifacts/screenshots.
/// </summary>
public abstract class DashboardBrowserTests(ServerEnvironment environment, StoreKind kind)
{
    private static string ScreenshotDirectory(StoreKind kind)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Clearflow.slnx")))
        {
            directory = directory.Parent;
        }
        var path = Path.Combine(directory?.FullName ?? Path.GetTempPath(), "artifacts", "screenshots", "dashboard-" + kind.ToString().ToLowerInvariant());
        Directory.CreateDirectory(path);
        return path;
    }

    private static async Task SignInAsync(IPage page, string email)
    {
        await page.GotoAsync("/dashboard");
        await page.WaitForURLAsync("**/dashboard/login**");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(DashboardClient.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_operator_finds_a_payment_reads_its_timeline_and_refunds_it_and_a_viewer_cannot()
    {
        var host = await environment.HostAsync(kind);
        var (_, key, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var api = host.CreateClient(key);
        var receipt = Api.NewReceipt();
        var order = await Api.CreateOrderAsync(api, receipt);
        await Api.CompleteCheckoutAsync(host, order, "success");
        await Api.WaitForOrderAsync(api, Api.Id(order), o => o.GetProperty("status").GetString() == "succeeded", "succeeded");
        var shots = ScreenshotDirectory(kind);

        var (playwright, browser) = await BrowserSupport.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;

        var operatorPage = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = host.BaseAddress.ToString() });
        operatorPage.SetDefaultTimeout(20_000);
        await SignInAsync(operatorPage, emails[DashboardRoles.Operator]);
        // The charts library loaded and drew both charts.
        await operatorPage.WaitForFunctionAsync("() => window.clearflowCharts && window.clearflowCharts.length === 2");
        await operatorPage.ScreenshotAsync(new() { Path = Path.Combine(shots, "1-overview.png"), FullPage = true });

        await operatorPage.GetByRole(AriaRole.Link, new() { Name = "Orders" }).First.ClickAsync();
        await operatorPage.GetByPlaceholder("order id, receipt, gateway ref").FillAsync(receipt);
        await operatorPage.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var rows = operatorPage.Locator("#orders tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2); // header + the one order
        await operatorPage.ScreenshotAsync(new() { Path = Path.Combine(shots, "2-search.png"), FullPage = true });

        await operatorPage.GetByRole(AriaRole.Link, new() { Name = Api.Id(order) }).ClickAsync();
        await Assertions.Expect(operatorPage.Locator("#order-status")).ToHaveTextAsync("succeeded");
        await Assertions.Expect(operatorPage.Locator("#timeline")).ToContainTextAsync("webhook.received");
        await Assertions.Expect(operatorPage.Locator("#timeline")).ToContainTextAsync("status.changed");
        await Assertions.Expect(operatorPage.Locator("#ledger")).ToContainTextAsync("499.00 INR");
        await operatorPage.ScreenshotAsync(new() { Path = Path.Combine(shots, "3-timeline.png"), FullPage = true });

        var refundForm = operatorPage.Locator("#refund-form");
        await refundForm.GetByLabel("Amount").FillAsync("100.50");
        await refundForm.GetByLabel("Reason").FillAsync("Customer returned one item");
        await refundForm.GetByRole(AriaRole.Button, new() { Name = "Refund" }).ClickAsync();
        await Assertions.Expect(operatorPage.GetByRole(AriaRole.Status)).ToContainTextAsync("Refund requested");
        await Assertions.Expect(operatorPage.Locator("#refunds")).ToContainTextAsync("100.50 INR");
        await Assertions.Expect(operatorPage.Locator("#audit")).ToContainTextAsync("order.refund");
        await Assertions.Expect(operatorPage.Locator("#audit")).ToContainTextAsync("Customer returned one item");
        await operatorPage.ScreenshotAsync(new() { Path = Path.Combine(shots, "4-refunded.png"), FullPage = true });

        // The API agrees: one refund of 10050.
        var refunds = await api.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds");
        Assert.Equal(10_050, Assert.Single(refunds.EnumerateArray()).GetProperty("amount").GetInt64());

        // A viewer sees the order, the refund button is disabled with the reason, and forcing the form anyway is refused by the server.
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = host.BaseAddress.ToString() });
        var viewerPage = await context.NewPageAsync();
        viewerPage.SetDefaultTimeout(20_000);
        await SignInAsync(viewerPage, emails[DashboardRoles.Viewer]);
        await viewerPage.GotoAsync($"/dashboard/orders/{Api.Id(order)}");
        await Assertions.Expect(viewerPage.Locator("#role-note")).ToContainTextAsync("can view but not act");
        await Assertions.Expect(viewerPage.Locator("#refund-button")).ToBeDisabledAsync();
        await viewerPage.Locator("#refund-form").GetByLabel("Reason").FillAsync("viewer tries anyway");
        await viewerPage.EvaluateAsync("() => { const b = document.getElementById('refund-button'); b.disabled = false; b.click(); }");
        await Assertions.Expect(viewerPage.GetByRole(AriaRole.Alert)).ToContainTextAsync("needs the operator role or higher");
        await viewerPage.ScreenshotAsync(new() { Path = Path.Combine(shots, "5-viewer-refused.png"), FullPage = true });
        refunds = await api.GetFromJsonAsync<JsonElement>($"/v1/orders/{Api.Id(order)}/refunds");
        Assert.Single(refunds.EnumerateArray());
        await context.DisposeAsync();
    }
}

[Collection(ServerCollection.Name)]
public sealed class DashboardBrowserOnSqlite(ServerEnvironment environment) : DashboardBrowserTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class DashboardBrowserOnPostgres(ServerEnvironment environment) : DashboardBrowserTests(environment, StoreKind.Postgres);
