namespace Clearflow.Gateways.PayU;

/// <summary>Section <c>Clearflow:Gateways:PayU</c>. Test keys use <see cref="TestBaseUrl"/>; the merchant's credentials say which (<c>mode</c>).</summary>
public sealed class PayUOptions
{
    public Uri BaseUrl { get; set; } = new("https://secure.payu.in/");

    public Uri TestBaseUrl { get; set; } = new("https://test.payu.in/");

    /// <summary>Live web service calls (verify, refunds) go to PayU's API host, not the payment form's.</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://info.payu.in/");

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
