using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clearflow.Application.Dashboard;
using Clearflow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>The operator dashboard over HTTP: sign-in, sessions, roles, isolation between merchants, audited actions.</summary>
public abstract class DashboardTests(ServerEnvironment environment, StoreKind kind) : ServerTest(environment)
{
    private static async Task<JsonElement> PaidOrderAsync(ClearflowTestHost host, HttpClient api, long? reportAmount = null)
    {
        var order = await Api.CreateOrderAsync(api);
        await Api.CompleteCheckoutAsync(host, order, "success", reportAmount: reportAmount);
        var expected = reportAmount is null ? "succeeded" : "requires_review";
        return await Api.WaitForOrderAsync(api, Api.Id(order), o => o.GetProperty("status").GetString() == expected, expected);
    }

    [Fact]
    public async Task Sign_in_checks_the_password_and_locks_the_account_after_repeated_failures()
    {
        var host = await Environment.HostAsync(kind);
        var (_, _, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var browser = new DashboardClient(host);

        using var anonymous = await browser.GetAsync("/dashboard/orders");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/dashboard/login", anonymous.Headers.Location!.PathAndQuery);

        using var wrong = await browser.SignInAsync(emails[DashboardRoles.Operator], "not the password");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("The email or the password is wrong", DashboardClient.ErrorShown(await wrong.Content.ReadAsStringAsync()));
        using var unknown = await browser.SignInAsync("nobody@example.com");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(DashboardClient.ErrorShown(await wrong.Content.ReadAsStringAsync()), DashboardClient.ErrorShown(await unknown.Content.ReadAsStringAsync()));

        using var right = await browser.SignInAsync(emails[DashboardRoles.Operator]);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/dashboard", right.Headers.Location!.ToString());
        Assert.Contains(emails[DashboardRoles.Operator], await browser.GetHtmlAsync("/dashboard"));
        // Sign out (the layout's form carries its anti-forgery token): the session is gone.
        using (var signOut = await browser.PostRawAsync("/dashboard/logout", new() { ["__RequestVerificationToken"] = await browser.TokenFromAsync("/dashboard") }))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        }
        using (var after = await browser.GetAsync("/dashboard"))
        {
            Assert.StartsWith("/dashboard/login", after.Headers.Location!.PathAndQuery);
        }

        using var other = new DashboardClient(host);
        for (var i = 0; i < SignInDashboardUser.MaxFailures; i++)
        {
            using var failed = await other.SignInAsync(emails[DashboardRoles.Viewer], "wrong " + i);
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        // Locked: even the right password is refused, with the answer an unknown email gets (a distinct answer
        // would tell that the account exists, as only existing accounts can be locked).
        using var locked = await other.SignInAsync(emails[DashboardRoles.Viewer]);
        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        Assert.Equal(DashboardClient.ErrorShown(await unknown.Content.ReadAsStringAsync()), DashboardClient.ErrorShown(await locked.Content.ReadAsStringAsync()));
        Assert.Contains("locked for 15 minutes", DashboardClient.ErrorShown(await locked.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Forms_without_the_anti_forgery_token_are_refused()
    {
        var host = await Environment.HostAsync(kind);
        var (_, key, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var api = host.CreateClient(key);
        var order = await PaidOrderAsync(host, api);
        using var browser = new DashboardClient(host);
        (await browser.SignInAsync(emails[DashboardRoles.Admin])).Dispose();

        using var forged = await browser.PostRawAsync($"/dashboard/orders/{Api.Id(order)}?handler=Refund", new() { ["reason"] = "csrf" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        using var refunds = await api.GetAsync($"/v1/orders/{Api.Id(order)}/refunds");
        Assert.Equal(0, (await refunds.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
    }

    [Fact]
    public async Task A_viewer_reads_but_is_refused_every_action_clearly_and_the_refusal_is_audited()
    {
        var host = await Environment.HostAsync(kind);
        var (merchantId, key, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var api = host.CreateClient(key);
        var order = await PaidOrderAsync(host, api);
        var path = $"/dashboard/orders/{Api.Id(order)}";
        using var viewer = new DashboardClient(host);
        (await viewer.SignInAsync(emails[DashboardRoles.Viewer])).Dispose();

        var html = await viewer.GetHtmlAsync(path);
        Assert.Contains("Your role (viewer) can view but not act", html);
        var (status, refused) = await viewer.PostAsync(path, "Refund", new() { ["reason"] = "trying", ["amount"] = "" });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("needs the operator role or higher; you are signed in as viewer", refused);
        var (recheckStatus, _) = await viewer.PostAsync(path, "Recheck");
        Assert.Equal(HttpStatusCode.Forbidden, recheckStatus);

        using var refunds = await api.GetAsync($"/v1/orders/{Api.Id(order)}/refunds");
        Assert.Equal(0, (await refunds.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
        var audit = await host.Store.ListAuditAsync(merchantId, Api.Id(order), 10, default);
        Assert.Equal(["order.recheck", "order.refund"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(("viewer", "refused: role-required"), (a.Role, a.Outcome)));

        // Admin pages: a clear refusal, not a missing link only.
        using var settings = await viewer.GetAsync("/dashboard/settings");
        Assert.Equal(HttpStatusCode.Redirect, settings.StatusCode);
        using var denied = await viewer.GetAsync(settings.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("Your role does not allow this page", await denied.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task No_page_action_or_export_reaches_another_merchants_data()
    {
        var host = await Environment.HostAsync(kind);
        var (_, keyA, emailsA) = await DashboardClient.NewMerchantWithUsersAsync(host);
        var (_, keyB, _) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var apiA = host.CreateClient(keyA);
        using var apiB = host.CreateClient(keyB);
        var own = await Api.CreateOrderAsync(apiA);
        var foreign = await PaidOrderAsync(host, apiB);
        using var browser = new DashboardClient(host);
        (await browser.SignInAsync(emailsA[DashboardRoles.Admin])).Dispose();

        using var page = await browser.GetAsync($"/dashboard/orders/{Api.Id(foreign)}");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains("Order not found", await page.Content.ReadAsStringAsync());
        var list = await browser.GetHtmlAsync("/dashboard/orders?q=" + Api.Id(foreign));
        Assert.Contains("No orders match.", list);
        Assert.Contains(Api.Id(own), await browser.GetHtmlAsync("/dashboard/orders"));

        using var export = await browser.GetAsync("/dashboard/orders/export");
        var csv = await export.Content.ReadAsStringAsync();
        Assert.Equal("text/csv", export.Content.Headers.ContentType?.MediaType);
        Assert.Contains(Api.Id(own), csv);
        Assert.DoesNotContain(Api.Id(foreign), csv);

        // A valid token (from one's own page) posted at the foreign order: refused as not found, nothing refunded.
        var token = await browser.TokenFromAsync($"/dashboard/orders/{Api.Id(own)}");
        using var refund = await browser.PostRawAsync($"/dashboard/orders/{Api.Id(foreign)}?handler=Refund",
            new() { ["reason"] = "not mine", ["__RequestVerificationToken"] = token });
        Assert.Equal(HttpStatusCode.NotFound, refund.StatusCode);
        using var refunds = await apiB.GetAsync($"/v1/orders/{Api.Id(foreign)}/refunds");
        Assert.Equal(0, (await refunds.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
    }

    [Fact]
    public async Task An_operator_resolves_a_review_with_a_note_and_the_capture_is_posted_once()
    {
        var host = await Environment.HostAsync(kind);
        var (merchantId, key, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var api = host.CreateClient(key);
        var order = await PaidOrderAsync(host, api, reportAmount: 1);
        var path = $"/dashboard/orders/{Api.Id(order)}";
        using var browser = new DashboardClient(host);
        (await browser.SignInAsync(emails[DashboardRoles.Operator])).Dispose();
        Assert.Contains("<strong>1</strong> orders require review", await browser.GetHtmlAsync("/dashboard"));

        var (noNote, noNoteHtml) = await browser.PostAsync(path, "Resolve", new() { ["outcome"] = "succeeded", ["note"] = " " });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noNote);
        Assert.Contains("Say why", noNoteHtml);

        var (status, html) = await browser.PostAsync(path, "Resolve", new() { ["outcome"] = "succeeded", ["note"] = "Gateway dashboard shows 499.00 captured" });
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Contains("Review resolved: succeeded.", html);
        var resolved = await Api.GetOrderAsync(api, Api.Id(order));
        Assert.Equal(("succeeded", 49_900L), (resolved.GetProperty("status").GetString(), resolved.GetProperty("amount_paid").GetInt64()));
        Assert.NotEmpty(await host.Store.ListLedgerEntriesAsync(merchantId, Api.Id(order), default));

        var (again, againHtml) = await browser.PostAsync(path, "Resolve", new() { ["outcome"] = "failed", ["note"] = "second thoughts" });
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("not requires_review", againHtml);
        var audit = await host.Store.ListAuditAsync(merchantId, Api.Id(order), 10, default);
        Assert.Contains(audit, a => a.Action == "order.resolve_review:succeeded" && a.Reason == "Gateway dashboard shows 499.00 captured" && a.Outcome == "ok");
        Assert.Contains("Gateway dashboard shows 499.00 captured", await browser.GetHtmlAsync(path));
    }

    [Fact]
    public async Task Admins_add_users_and_rotate_api_keys_and_bad_settings_are_explained()
    {
        var host = await Environment.HostAsync(kind);
        var (merchantId, key, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var browser = new DashboardClient(host);
        (await browser.SignInAsync(emails[DashboardRoles.Admin])).Dispose();

        var (badUser, badUserHtml) = await browser.PostAsync("/dashboard/settings", "AddUser", new() { ["email"] = "x", ["role"] = "root", ["password"] = "short" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badUser);
        Assert.Contains("email:", badUserHtml);
        Assert.Contains("role:", badUserHtml);
        var newEmail = $"new-{Guid.NewGuid():N}@example.com";
        var (added, _) = await browser.PostAsync("/dashboard/settings", "AddUser", new() { ["email"] = newEmail, ["role"] = "viewer", ["password"] = DashboardClient.Password });
        Assert.Equal(HttpStatusCode.Redirect, added);
        using (var newUser = new DashboardClient(host))
        {
            Assert.Equal(HttpStatusCode.Redirect, (await newUser.SignInAsync(newEmail)).StatusCode);
        }

        var (badSettings, badSettingsHtml) = await browser.PostAsync("/dashboard/settings", "Save", new() { ["settings"] = "{ not json" });
        Assert.True(badSettings is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, badSettingsHtml);

        // Rotation: the only key cannot be revoked; issue a new one, then the old one can.
        var oldKey = (await host.Store.ListApiKeysAsync(merchantId, default)).Single();
        var (lastKey, lastKeyHtml) = await browser.PostAsync("/dashboard/settings", "Revoke", new() { ["keyId"] = oldKey.Id, ["reason"] = "rotation" });
        Assert.Equal(HttpStatusCode.Conflict, lastKey);
        Assert.Contains("only active key", lastKeyHtml);
        var (issued, issuedHtml) = await browser.PostAsync("/dashboard/settings", "IssueKey", new() { ["mode"] = "test" });
        Assert.Equal(HttpStatusCode.OK, issued);
        var newKey = System.Text.RegularExpressions.Regex.Match(issuedHtml, "id=\"new-key\">(sk_test_[^<]+)<").Groups[1].Value;
        Assert.StartsWith("sk_test_", newKey);
        var (revoked, _) = await browser.PostAsync("/dashboard/settings", "Revoke", new() { ["keyId"] = oldKey.Id, ["reason"] = "rotation" });
        Assert.Equal(HttpStatusCode.Redirect, revoked);

        using var oldClient = host.CreateClient(key);
        using var refused = await oldClient.GetAsync("/v1/orders");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var newClient = host.CreateClient(newKey);
        using var accepted = await newClient.GetAsync("/v1/orders");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var actions = (await host.Store.ListAuditAsync(merchantId, null, 20, default)).Select(a => (a.Action, a.Outcome)).ToArray();
        Assert.Contains(("api_key.revoke", "ok"), actions);
        Assert.Contains(("api_key.revoke", "refused: last-key"), actions);
        Assert.Contains(("user.create:viewer", "ok"), actions);
    }

    [Fact]
    public async Task Re_check_and_retry_fulfilment_report_what_they_did()
    {
        var host = await Environment.HostAsync(kind);
        var (_, key, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var api = host.CreateClient(key);
        var order = await PaidOrderAsync(host, api);
        var path = $"/dashboard/orders/{Api.Id(order)}";
        using var browser = new DashboardClient(host);
        (await browser.SignInAsync(emails[DashboardRoles.Operator])).Dispose();

        var (recheck, recheckHtml) = await browser.PostAsync(path, "Recheck");
        Assert.Equal(HttpStatusCode.Redirect, recheck);
        Assert.Contains("Re-checked: the gateway was asked; the order is succeeded.", recheckHtml);
        var (retry, retryHtml) = await browser.PostAsync(path, "RetryFulfilment");
        Assert.Equal(HttpStatusCode.Conflict, retry);
        Assert.Contains("no fulfilment waiting to be retried", retryHtml);
        var audit = await browser.GetHtmlAsync("/dashboard/audit");
        Assert.Contains("order.recheck", audit);
        Assert.Contains("refused: nothing-to-retry", audit);
    }

    [Fact]
    public async Task An_idle_session_expires_and_a_used_one_slides()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var host = await Environment.StartExtraHostAsync(kind, s => s.AddSingleton<TimeProvider>(clock), StatusCheckTests.Workers());
        var (_, _, emails) = await DashboardClient.NewMerchantWithUsersAsync(host);
        using var browser = new DashboardClient(host);
        (await browser.SignInAsync(emails[DashboardRoles.Viewer])).Dispose();

        clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Contains("Overview", await browser.GetHtmlAsync("/dashboard"));
        clock.Advance(TimeSpan.FromMinutes(20)); // 40 min since sign-in, 20 since the last request
        Assert.Contains("Overview", await browser.GetHtmlAsync("/dashboard"));
        clock.Advance(TimeSpan.FromMinutes(31));
        using var expired = await browser.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, expired.StatusCode);
        Assert.StartsWith("/dashboard/login", expired.Headers.Location!.PathAndQuery);
    }
}

[Collection(ServerCollection.Name)]
public sealed class DashboardOnSqlite(ServerEnvironment environment) : DashboardTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class DashboardOnPostgres(ServerEnvironment environment) : DashboardTests(environment, StoreKind.Postgres);
