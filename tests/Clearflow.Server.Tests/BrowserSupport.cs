using Microsoft.Playwright;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>Debian's Chromium driven by Playwright (never `playwright install`: the machine has no internet, so the browser comes from the OS).</summary>
public static class BrowserSupport
{
    private static readonly string ChromiumPath = Environment.GetEnvironmentVariable("CLEARFLOW_CHROMIUM") ?? "/usr/bin/chromium";

    public static async Task<(IPlaywright, IBrowser)> LaunchAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"Chromium not found at {ChromiumPath}: run ./test.sh (it installs the chromium package) or set CLEARFLOW_CHROMIUM.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return (playwright, browser);
    }
}
