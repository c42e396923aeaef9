using System.Globalization;
using System.Text.Json;
using Clearflow.Application.Dashboard;
using Microsoft.AspNetCore.Authorization;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class IndexModel(GetOverview overview, Application.Gateways.ListGateways gateways) : DashboardPage
{
    public GetOverview.Overview? Overview { get; private set; }

    /// <summary>The chart series as JSON, inside a script tag of type application/json (never executed, so never injectable).</summary>
    public string ChartJson { get; private set; } = "{}";

    public IReadOnlyList<Application.Gateways.ListGateways.GatewayView> Gateways { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Overview = await overview.HandleAsync(Operator.MerchantId, cancellationToken);
        Gateways = await gateways.HandleAsync(Operator.MerchantId, cancellationToken);
        ChartJson = JsonSerializer.Serialize(new
        {
            labels = Overview.Days.Select(d => d.Day.ToString("MM-dd", CultureInfo.InvariantCulture)),
            orders = Overview.Days.Select(d => d.Orders),
            paid = Overview.Days.Select(d => d.Paid),
            rate = Overview.Days.Select(d => d.SuccessRate),
        }).Replace("<", "\\u003c", StringComparison.Ordinal);
    }
}
