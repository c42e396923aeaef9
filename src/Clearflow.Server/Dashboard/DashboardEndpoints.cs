using Clearflow.Application.Dashboard;
using Clearflow.Application.Orders.ListOrders;
using Clearflow.Server.Http;

namespace Clearflow.Server.Dashboard;

/// <summary>The dashboard's non-page routes: the chart library and the CSV export.</summary>
public static class DashboardEndpoints
{
    private const string ChartResource = "dashboard/chart.umd.min.js";

    public static bool HasCharts { get; } = typeof(DashboardEndpoints).Assembly.GetManifestResourceInfo(ChartResource) is not null;

    public static IEndpointRouteBuilder MapDashboardEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/dashboard/assets/chart.js", (HttpContext context) =>
        {
            var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(ChartResource);
            if (stream is null)
            {
                return Results.NotFound();
            }
            context.Response.Headers.CacheControl = "public, max-age=86400";
            return Results.Stream(stream, "text/javascript");
        }).ExcludeFromDescription().AllowAnonymous();

        routes.MapGet("/dashboard/orders/export", (HttpContext context, ExportOrders export, TimeProvider clock) =>
        {
            var who = DashboardAuth.Operator(context.User)!;
            var query = ExportOrders.Validate(who.MerchantId, context.Request.Query.Flatten());
            return query.IsSuccess ? new OrderCsvResult(query.Value!, export, clock) : query.Error!.ToResult();
        }).ExcludeFromDescription().RequireAuthorization(DashboardAuth.ViewerPolicy);
        return routes;
    }
}
