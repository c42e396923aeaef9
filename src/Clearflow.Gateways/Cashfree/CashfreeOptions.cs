namespace Clearflow.Gateways.Cashfree;

/// <summary>Section <c>Clearflow:Gateways:Cashfree</c>. Test credentials (client id starting with <c>TEST</c>) use the sandbox address.</summary>
public sealed class CashfreeOptions
{
    public Uri BaseUrl { get; set; } = new("https://api.cashfree.com/");

    public Uri SandboxBaseUrl { get; set; } = new("https://sandbox.cashfree.com/");

    /// <summary>Pinned: the shapes below are this version's.</summary>
    public string ApiVersion { get; set; } = "2023-08-01";

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Rows asked for per page of the settlement report (Cashfree allows up to 1000).</summary>
    public int SettlementPageSize { get; set; } = 100;

    /// <summary>Cashfree does not document one; a signed timestamp older than this is refused as a replay.</summary>
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromMinutes(10);
}
