using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Dashboard;
using Clearflow.Application.Merchants;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Clearflow.Server.Dashboard.Pages;

/// <summary>Admins only: the settings hold secrets (the fulfilment signing secret) and control where money-related messages go.</summary>
[Authorize(Policy = DashboardAuth.AdminPolicy)]
public sealed class SettingsModel(GetMerchantSettings settings, IDashboardStore store, OperatorActions actions) : DashboardPage
{
    public string SettingsJson { get; private set; } = "";
    public IReadOnlyList<ApiKeyRecord> Keys { get; private set; } = [];
    public IReadOnlyList<DashboardUserRecord> Users { get; private set; } = [];
    public string? NewKey { get; private set; }

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(null, cancellationToken);

    public async Task<IActionResult> OnPostSaveAsync(string? settings, CancellationToken cancellationToken) =>
        await AfterAsync(await actions.UpdateSettingsAsync(Operator, settings ?? "", cancellationToken), "Saved", () => LoadAsync(settings, cancellationToken));

    public async Task<IActionResult> OnPostRevokeAsync(string? keyId, string? reason, CancellationToken cancellationToken) =>
        await AfterAsync(AuditedAction.RequireReason(reason) is { } missing ? missing : await actions.RevokeApiKeyAsync(Operator, keyId ?? "", reason, cancellationToken),
            "Key", () => LoadAsync(null, cancellationToken));

    public async Task<IActionResult> OnPostAddUserAsync(string? email, string? role, string? password, CancellationToken cancellationToken) =>
        await AfterAsync(await actions.CreateUserAsync(Operator, email, role, password, cancellationToken), "User added", () => LoadAsync(null, cancellationToken));

    public async Task<IActionResult> OnPostIssueKeyAsync(string? mode, CancellationToken cancellationToken)
    {
        var result = await actions.IssueApiKeyAsync(Operator, mode ?? "test", cancellationToken);
        if (!result.IsSuccess)
        {
            return await AfterAsync(result, "", () => LoadAsync(null, cancellationToken));
        }
        // Rendered directly, never through TempData: the key must not travel in a cookie.
        NewKey = result.Value;
        await LoadAsync(null, cancellationToken);
        return Page();
    }

    private async Task LoadAsync(string? submitted, CancellationToken cancellationToken)
    {
        SettingsJson = submitted ?? JsonSerializer.Serialize(await settings.HandleAsync(Operator.MerchantId, cancellationToken),
            new JsonSerializerOptions(Json.Options) { WriteIndented = true });
        Keys = await store.ListApiKeysAsync(Operator.MerchantId, cancellationToken);
        Users = await store.ListDashboardUsersAsync(Operator.MerchantId, cancellationToken);
    }
}
