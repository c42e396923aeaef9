namespace Clearflow.Gateways.Stripe;

/// <summary>Section <c>Clearflow:Gateways:Stripe</c>.</summary>
public sealed class StripeOptions
{
    /// <summary>The API's base address; tests point it at a local fake.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.stripe.com/");

    /// <summary>Pinned so Stripe's shapes cannot change under us.</summary>
    public string ApiVersion { get; set; } = "2024-06-20";

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Stripe's own libraries use 300 s.</summary>
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromMinutes(5);
}
