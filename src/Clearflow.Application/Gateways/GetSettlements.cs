using System.Globalization;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Gateways;

/// <summary>
/// <c>GET /v1/merchant/gateways/{gateway}/settlements?from=&amp;to=</c>: the gateway's settlement lines for the
/// dates, each matched to the Clearflow order it belongs to (or flagged when none is found), with totals per
/// currency. Read from the gateway on demand; nothing is stored yet.
/// </summary>
public sealed class GetSettlements(IGatewayRegistry gateways, IOrderStore orders)
{
    public const int MaxDays = 31;

    public sealed record LineView(string Kind, string GatewayTransactionId, string? OrderId, long Gross, long Fee, long Tax, long Net, string Currency,
        string? SettlementId, string? SettlementReference, DateTimeOffset? SettledAt, string? Discrepancy);

    public sealed record TotalView(string Currency, long Gross, long Fee, long Tax, long Net, int Lines);

    public sealed record SettlementsView(string Object, string Gateway, DateOnly From, DateOnly To, IReadOnlyList<LineView> Lines, IReadOnlyList<TotalView> Totals);

    public async Task<Result<SettlementsView>> HandleAsync(string merchantId, string gatewayName, string? from, string? to, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        DateOnly Date(string? text, string name)
        {
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }
            errors[name] = ["A UTC date like 2026-11-26."];
            return default;
        }
        var first = Date(from, "from");
        var last = to is null ? first : Date(to, "to");
        if (errors.Count == 0 && (last < first || last.DayNumber - first.DayNumber >= MaxDays))
        {
            errors["to"] = [$"From 'from' to at most {MaxDays - 1} days later."];
        }
        if (errors.Count > 0)
        {
            return new Problem(400, "invalid-filter", "The dates are not valid.", "One or more query parameters are invalid; see errors.", errors);
        }
        var gateway = await gateways.ResolveAsync(merchantId, gatewayName, cancellationToken);
        if (gateway is null)
        {
            return gateways.Names.Contains(gatewayName)
                ? Problem.Conflict("gateway-not-configured", $"No {gatewayName} credentials are set for this merchant.")
                : Problem.NotFound("Gateway", gatewayName);
        }
        if (gateway is not ISettlementSource source)
        {
            return new Problem(422, "settlements-not-supported", "This gateway offers no settlement report.",
                $"{gatewayName} has no settlement report Clearflow can read; Razorpay and Cashfree do.");
        }
        IReadOnlyList<SettlementLine> lines;
        try
        {
            lines = await source.FetchSettlementsAsync(first, last, cancellationToken);
        }
        catch (GatewayUnavailableException ex)
        {
            return new Problem(503, "gateway-unavailable", "The gateway did not answer.", ex.Message);
        }
        catch (GatewayRejectedException ex)
        {
            return new Problem(502, "gateway-rejected", "The gateway refused the request.", ex.Message);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            return new Problem(502, "gateway-response-unreadable", "The gateway's settlement report could not be read.", $"{gatewayName}: {ex.Message}");
        }

        var views = new List<LineView>();
        foreach (var line in lines)
        {
            var attempt = line.GatewayOrderReference is null ? null : await orders.FindAttemptByReferenceAsync(gatewayName, line.GatewayOrderReference, cancellationToken);
            var order = attempt is null ? null : await orders.GetOrderAsync(attempt.OrderId, cancellationToken);
            string? discrepancy = null;
            if (order is null || order.MerchantId != merchantId)
            {
                order = null;
                discrepancy = "no Clearflow order for this line";
            }
            else if (line.Currency != order.Currency)
            {
                discrepancy = $"currency {line.Currency}, order in {order.Currency}";
            }
            else if (line.Kind == "payment" && line.Gross != order.AmountPaid)
            {
                discrepancy = $"gross {line.Gross}, order paid {order.AmountPaid}";
            }
            views.Add(new LineView(line.Kind, line.GatewayTransactionId, order?.Id, line.Gross, line.Fee, line.Tax, line.Net, line.Currency, line.SettlementId,
                line.SettlementReference, line.SettledAt, discrepancy));
        }
        var totals = views.GroupBy(v => v.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new TotalView(g.Key, g.Sum(v => v.Kind == "refund" ? -v.Gross : v.Gross), g.Sum(v => v.Fee), g.Sum(v => v.Tax), g.Sum(v => v.Net), g.Count()))
            .ToArray();
        return new SettlementsView("settlements", gatewayName, first, last, views, totals);
    }
}
