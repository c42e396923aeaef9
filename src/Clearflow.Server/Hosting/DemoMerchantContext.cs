namespace Clearflow.Server.Hosting;

/// <summary>The demo merchant as set up at start; the demo shop uses its key like any merchant backend would.</summary>
public sealed class DemoMerchantContext
{
    public string? MerchantId { get; set; }
    public string? SecretKey { get; set; }
}
