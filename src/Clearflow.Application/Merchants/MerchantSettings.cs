using Clearflow.Application.Common;

namespace Clearflow.Application.Merchants;

/// <summary>A merchant's settings, stored as one JSON document so new settings need no migration.</summary>
public sealed record MerchantSettings
{
    /// <summary>Gateways this merchant may use.</summary>
    public IReadOnlyList<string> Gateways { get; init; } = ["sandbox"];

    /// <summary>Used when an order names no gateway.</summary>
    public string DefaultGateway { get; init; } = "sandbox";

    public static MerchantSettings Parse(string json) => Json.Deserialize<MerchantSettings>(json);

    public string ToJson() => Json.Serialize(this);
}
