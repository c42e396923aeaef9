using Clearflow.TestSupport;
using Microsoft.Playwright;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// The demo shop's Pay flow in a real browser: Debian's Chromium driven by Playwright (never
/// `playwright install`: the machine has no internet, so the browser comes from the OS).
/// </summary>
public abstract class DemoShopBrowserTests(ServerEnvironment environment, StoreKind kind)
{
    [Theory]
    [InlineData("Pay successfully", "succeeded", "Payment succeeded")]
    [InlineData("Fail the payment", "failed", "Payment failed")]
    public async Task Pay_opens_the_sandbox_checkout_and_the_processing_screen_shows_the_final_status(string button, string status, string label)
    {
        var host = await environment.HostAsync(kind);
        var (playwright, browser) = await BrowserSupport.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = host.BaseAddress.ToString() });
        page.SetDefaultTimeout(20_000);

        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByTestId("price")).ToHaveTextAsync("₹499.00");
        await page.GetByTestId("pay").ClickAsync();

        try
        {
            await page.WaitForURLAsync("**/sandbox/checkout/**");
        }
        catch (TimeoutException ex)
        {
            // The shop shows why it did not start the payment (a problem detail from the API): say so.
            throw new TimeoutException($"No sandbox checkout within 20 s; the shop page at {page.Url} says: '{await page.Locator("#error").TextContentAsync()}'.", ex);
        }
        await Assertions.Expect(page.GetByTestId("amount")).ToHaveTextAsync("INR 499.00");
        await page.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();

        await page.WaitForURLAsync("**/shop/processing?order_id=*");
        var statusElement = page.GetByTestId("status");
        await Assertions.Expect(statusElement).ToHaveTextAsync(label, new() { Timeout = 20_000 });
        Assert.Equal(status, await statusElement.GetAttributeAsync("data-order-status"));

        // What the screen shows is what the API says.
        var orderId = new Uri(page.Url).Query.Split("order_id=")[1];
        using var api = host.CreateClient();
        Assert.Equal(status, (await Api.GetOrderAsync(api, Uri.UnescapeDataString(orderId))).GetProperty("status").GetString());
    }
}

[Collection(ServerCollection.Name)]
public sealed class DemoShopBrowserOnSqlite(ServerEnvironment environment) : DemoShopBrowserTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class DemoShopBrowserOnPostgres(ServerEnvironment environment) : DemoShopBrowserTests(environment, StoreKind.Postgres);
