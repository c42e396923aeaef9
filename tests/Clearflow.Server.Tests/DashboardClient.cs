using System.Net;
using System.Text.RegularExpressions;
using Clearflow.Application.Dashboard;
using Clearflow.Application.Merchants;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// A browser without the browser: keeps the session cookie, reads the anti-forgery token from the page's
/// form, and posts forms the way the dashboard's own buttons do.
/// </summary>
public sealed partial class DashboardClient : IDisposable
{
    private readonly HttpClient _http;

    public DashboardClient(ClearflowTestHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = host.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public const string Password = "correct horse battery staple";

    /// <summary>A new merchant (with an API key) and a dashboard user of each role for it.</summary>
    public static async Task<(string MerchantId, string SecretKey, Dictionary<string, string> Emails)> NewMerchantWithUsersAsync(ClearflowTestHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        using var scope = host.Services.CreateScope();
        var sp = scope.ServiceProvider;
        var merchant = (await sp.GetRequiredService<CreateMerchant>().HandleAsync("Dash " + Guid.NewGuid().ToString("N")[..10], default)).Value!;
        var key = (await sp.GetRequiredService<IssueApiKey>().HandleAsync(merchant.Id, "test", default)).Value!.SecretKey;
        var emails = new Dictionary<string, string>();
        foreach (var role in DashboardRoles.All)
        {
            var email = $"{role}-{Guid.NewGuid():N}@example.com";
            var created = await sp.GetRequiredService<CreateDashboardUser>().HandleAsync(merchant.Id, email, role, Password, default);
            Assert.True(created.IsSuccess, created.Error?.Detail);
            emails[role] = email;
        }
        return (merchant.Id, key, emails);
    }

    public async Task<HttpResponseMessage> SignInAsync(string email, string password = Password)
    {
        var token = Token(await GetHtmlAsync("/dashboard/login"));
        return await _http.PostAsync("/dashboard/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = email, ["password"] = password, ["__RequestVerificationToken"] = token,
        }));
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path);

    public async Task<string> GetHtmlAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {response.Headers.Location} {html}");
        return html;
    }

    /// <summary>Posts the page's form for <paramref name="handler"/> with the page's own anti-forgery token.</summary>
    public async Task<(HttpStatusCode Status, string Html)> PostAsync(string path, string handler, Dictionary<string, string>? fields = null)
    {
        var token = Token(await GetHtmlAsync(path));
        var form = new Dictionary<string, string>(fields ?? []) { ["__RequestVerificationToken"] = token };
        using var response = await _http.PostAsync($"{path}?handler={handler}", new FormUrlEncodedContent(form));
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            // Post/redirect/get: follow once to read the outcome message.
            return (HttpStatusCode.Redirect, await GetHtmlAsync(response.Headers.Location!.ToString()));
        }
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<string> TokenFromAsync(string path) => Token(await GetHtmlAsync(path));

    public Task<HttpResponseMessage> PostRawAsync(string path, Dictionary<string, string> form) => _http.PostAsync(path, new FormUrlEncodedContent(form));

    private static string Token(string html) =>
        TokenPattern().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("No anti-forgery token on the page.");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    /// <summary>The error message a page shows (its <c>flash error</c> box).</summary>
    public static string ErrorShown(string html) =>
        ErrorPattern().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("The page shows no error.");

    [GeneratedRegex("<div class=\"flash error\" role=\"alert\">(.*?)</div>", RegexOptions.Singleline)]
    private static partial Regex ErrorPattern();

    public void Dispose() => _http.Dispose();
}
