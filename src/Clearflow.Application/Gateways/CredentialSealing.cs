using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Gateways;

/// <summary>How a merchant's credential fields become one sealed value and back; the context ties it to its merchant and gateway.</summary>
public static class CredentialSealing
{
    public static string Context(string merchantId, string gateway) => $"gateway-credentials|{merchantId}|{gateway}";

    public static string Seal(ISecretBox secrets, string merchantId, string gateway, IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return secrets.Seal(Json.Serialize(fields), Context(merchantId, gateway));
    }

    public static IReadOnlyDictionary<string, string> Open(ISecretBox secrets, GatewayCredentialRecord stored)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(stored);
        return Json.Deserialize<Dictionary<string, string>>(secrets.Open(stored.Sealed, Context(stored.MerchantId, stored.Gateway)));
    }

    /// <summary>What may be shown of the credentials: each field's first characters and last four.</summary>
    public static string Hint(IGatewayConnector connector, IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return string.Join(", ", connector.Fields.Where(f => fields.ContainsKey(f.Name)).Select(f =>
        {
            var value = fields[f.Name];
            var prefix = f.Prefixes.FirstOrDefault(p => value.StartsWith(p, StringComparison.Ordinal)) ?? "";
            return $"{f.Name}={prefix}…{(value.Length >= prefix.Length + 8 ? value[^4..] : "")}";
        }));
    }
}
