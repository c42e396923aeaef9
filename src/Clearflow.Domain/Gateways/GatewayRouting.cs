namespace Clearflow.Domain.Gateways;

/// <summary>One routing rule: the gateway, and what an order must match for it (absent conditions match anything).</summary>
/// <param name="Currencies">ISO codes; empty: any.</param>
/// <param name="Methods">Payment methods as the merchant names them (card, upi, netbanking, wallet); empty: any.</param>
public sealed record RoutingRule(string Gateway, IReadOnlyList<string> Currencies, IReadOnlyList<string> Methods, long? MinAmount, long? MaxAmount)
{
    public bool Matches(string currency, long amount, string? method) =>
        (Currencies.Count == 0 || Currencies.Contains(currency, StringComparer.Ordinal))
        && (Methods.Count == 0 || (method is not null && Methods.Contains(method, StringComparer.Ordinal)))
        && (MinAmount is null || amount >= MinAmount)
        && (MaxAmount is null || amount <= MaxAmount);
}

/// <summary>
/// Picks the gateway for a new order: the rules in the merchant's order, skipping gateways whose circuit
/// does not allow a new order now. Pure: availability is passed in.
/// </summary>
public static class GatewayRouting
{
    /// <returns>The chosen gateway and the eligible ones passed over (for the timeline), or null when none is eligible.</returns>
    public static (string? Gateway, IReadOnlyList<string> Skipped) Choose(IReadOnlyList<RoutingRule> rules, string currency, long amount, string? method,
        Func<string, bool> available)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(available);
        var skipped = new List<string>();
        foreach (var rule in rules.Where(r => r.Matches(currency, amount, method)))
        {
            if (skipped.Contains(rule.Gateway))
            {
                continue;
            }
            if (available(rule.Gateway))
            {
                return (rule.Gateway, skipped);
            }
            skipped.Add(rule.Gateway);
        }
        return (null, skipped);
    }
}
