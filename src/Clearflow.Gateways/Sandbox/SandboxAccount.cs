using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Gateways.Sandbox;

/// <summary>The sandbox account's secrets: generated on first use, identical on every node.</summary>
public sealed class SandboxAccount(ISystemSettings settings)
{
    private AccountSecrets? _cached;

    private sealed record AccountSecrets(string ApiKey, string WebhookSecret, string CallbackSecret);

    public async ValueTask<string> ApiKeyAsync(CancellationToken cancellationToken) => (await LoadAsync(cancellationToken)).ApiKey;

    public async ValueTask<string> WebhookSecretAsync(CancellationToken cancellationToken) => (await LoadAsync(cancellationToken)).WebhookSecret;

    public async ValueTask<string> CallbackSecretAsync(CancellationToken cancellationToken) => (await LoadAsync(cancellationToken)).CallbackSecret;

    private async ValueTask<AccountSecrets> LoadAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } cached)
        {
            return cached;
        }
        var loaded = new AccountSecrets(
            await settings.GetOrAddSettingAsync(SandboxProtocol.ApiKeySetting, "sbx_key_" + Secrets.RandomToken(32), cancellationToken),
            await settings.GetOrAddSettingAsync(SandboxProtocol.WebhookSecretSetting, "sbx_whsec_" + Secrets.RandomToken(32), cancellationToken),
            await settings.GetOrAddSettingAsync(SandboxProtocol.CallbackSecretSetting, "sbx_cbsec_" + Secrets.RandomToken(32), cancellationToken));
        _cached = loaded;
        return loaded;
    }
}
