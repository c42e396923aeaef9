using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary>
/// Makes sure the demo merchant exists and holds the demo test key, so the run command works with
/// no setup. The key comes from <c>CLEARFLOW_DEMO_SECRET_KEY</c> when set; otherwise it is generated
/// once and kept in a file beside the data (the database keeps only its hash).
/// </summary>
public sealed class EnsureDemoMerchant(IMerchantStore store, CreateMerchant createMerchant, IssueApiKey issueApiKey)
{
    public const string DemoMerchantName = "Demo Shop";

    public sealed record Demo(MerchantRecord Merchant, string SecretKey);

    public async Task<Demo> HandleAsync(string? configuredKey, string keyFilePath, CancellationToken cancellationToken)
    {
        var merchant = await store.FindMerchantByNameAsync(DemoMerchantName, cancellationToken);
        if (merchant is null)
        {
            // Another node starting at the same moment may win the name: then use its merchant.
            var created = await createMerchant.HandleAsync(DemoMerchantName, cancellationToken);
            merchant = created.Value ?? await store.FindMerchantByNameAsync(DemoMerchantName, cancellationToken)
                ?? throw new InvalidOperationException(created.Error!.Detail);
        }

        var key = configuredKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            key = File.Exists(keyFilePath) ? (await File.ReadAllTextAsync(keyFilePath, cancellationToken)).Trim() : null;
        }
        if (string.IsNullOrWhiteSpace(key))
        {
            key = IssueApiKey.TestPrefix + Secrets.RandomToken(32);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFilePath))!);
            await File.WriteAllTextAsync(keyFilePath, key + Environment.NewLine, cancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        var registered = await issueApiKey.RegisterAsync(merchant.Id, key.Trim(), cancellationToken);
        if (!registered.IsSuccess)
        {
            throw new InvalidOperationException($"CLEARFLOW_DEMO_SECRET_KEY is not usable: {registered.Error!.Errors!.Values.First()[0]}");
        }
        if (registered.Value!.Record.MerchantId != merchant.Id)
        {
            throw new InvalidOperationException("CLEARFLOW_DEMO_SECRET_KEY already belongs to another merchant.");
        }
        return new Demo(merchant, key.Trim());
    }
}
