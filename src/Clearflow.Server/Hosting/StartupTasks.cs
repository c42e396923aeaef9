using Clearflow.Application.Abstractions;
using Clearflow.Application.Merchants;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Hosting;

/// <summary>What must be true before the first request: schema migrated, demo merchant ready.</summary>
public static class StartupTasks
{
    public static async Task PrepareAsync(IServiceProvider services, bool announceDemoKey, CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<IClearflowStore>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Clearflow.Startup");
        var applied = await store.MigrateAsync(cancellationToken);
        logger.LogInformation("Store {Kind} ready; migrations applied now: {Applied}", store.Kind, applied.Count == 0 ? "none" : string.Join(", ", applied));

        var options = services.GetRequiredService<IOptions<ClearflowOptions>>().Value;
        if (!options.DemoMerchant.Enabled)
        {
            return;
        }
        using var scope = services.CreateScope();
        var demo = await scope.ServiceProvider.GetRequiredService<EnsureDemoMerchant>()
            .HandleAsync(Environment.GetEnvironmentVariable("CLEARFLOW_DEMO_SECRET_KEY"), options.DemoKeyFile, cancellationToken);
        var context = services.GetRequiredService<DemoMerchantContext>();
        context.MerchantId = demo.Merchant.Id;
        context.SecretKey = demo.SecretKey;
        if (announceDemoKey)
        {
            // Printed on purpose: it is a test-mode key of the demo merchant, and the README's run command relies on it.
            Console.WriteLine($"Demo merchant {demo.Merchant.Id} test secret key: {demo.SecretKey}  (again: clearflow demo-key)");
        }
    }
}
