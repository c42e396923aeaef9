namespace Clearflow.Gateways.Razorpay;

/// <summary>Section <c>Clearflow:Gateways:Razorpay</c>.</summary>
public sealed class RazorpayOptions
{
    /// <summary>The API's base address; tests point it at a local fake.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.razorpay.com/");

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
