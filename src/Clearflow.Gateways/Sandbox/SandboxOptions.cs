namespace Clearflow.Gateways.Sandbox;

/// <summary>Settings of the sandbox connector (section <c>Clearflow:Sandbox</c>).</summary>
public sealed class SandboxOptions
{
    /// <summary>Where the sandbox gateway's API lives. Default: this server's own <c>/sandbox/</c>.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>How far a webhook's signed timestamp may be from now before it counts as a replay.</summary>
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time limit of one call to the sandbox API.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
