using Clearflow.Application.Abstractions;
using Clearflow.Application.Orders.ListOrders;

namespace Clearflow.Server.Http;

/// <summary>Streams an order export as CSV while it is read, flushing every few hundred lines; used by the API and the dashboard.</summary>
public sealed class OrderCsvResult(OrderQuery query, ExportOrders export, TimeProvider clock) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"orders-{clock.GetUtcNow():yyyyMMdd-HHmmss}.csv\"";
        response.Headers.CacheControl = "no-store";
        var cancellationToken = httpContext.RequestAborted;
        var lines = 0;
        await foreach (var line in export.LinesAsync(query, cancellationToken))
        {
            await response.WriteAsync(line, cancellationToken);
            if (++lines % 500 == 0)
            {
                await response.Body.FlushAsync(cancellationToken);
            }
        }
    }
}
