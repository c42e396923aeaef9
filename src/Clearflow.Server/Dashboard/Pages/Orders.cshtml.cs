using Clearflow.Application.Orders.ListOrders;
using Clearflow.Server.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Extensions;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class OrdersModel(ListOrders list) : DashboardPage
{
    public ListOrders.Page<ListOrders.OrderSummary>? Results { get; private set; }
    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    /// <summary>The current filters (without paging) as a query string, for the export link.</summary>
    public string FilterQuery { get; private set; } = "";
    public string? NextLink { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var parameters = Request.Query.Flatten().Where(p => !string.IsNullOrWhiteSpace(p.Value)).ToDictionary(p => p.Key, p => p.Value);
        var filters = new QueryBuilder(parameters.Where(p => p.Key is not ("cursor" or "limit")));
        FilterQuery = filters.ToString();
        var result = await list.HandleAsync(Operator.MerchantId, parameters, null, cancellationToken);
        if (!result.IsSuccess)
        {
            Errors = result.Error!.Errors ?? new Dictionary<string, string[]> { ["filters"] = [result.Error.Detail] };
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        Results = result.Value;
        if (Results!.NextCursor is { } cursor)
        {
            filters.Add("cursor", cursor);
            NextLink = "/dashboard/orders" + filters;
        }
    }
}
