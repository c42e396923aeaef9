using System.Globalization;
using System.Text.Json;
using Clearflow.Application.Reports;
using Microsoft.AspNetCore.Authorization;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class ReportsModel(GetDailyReport reports, TimeProvider clock) : DashboardPage
{
    public string Date { get; private set; } = "";
    public string? ReportJson { get; private set; }
    public string? Message { get; private set; }

    public async Task OnGetAsync(string? date, CancellationToken cancellationToken)
    {
        Date = string.IsNullOrWhiteSpace(date)
            ? DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : date.Trim();
        var result = await reports.HandleAsync(Operator.MerchantId, Date, cancellationToken);
        if (result.IsSuccess)
        {
            using var document = JsonDocument.Parse(result.Value!);
            ReportJson = JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
        else
        {
            Message = result.Error!.Errors is { } errors ? string.Join(" ", errors.SelectMany(e => e.Value)) : result.Error.Detail;
            Response.StatusCode = result.Error.Status == 404 ? StatusCodes.Status200OK : result.Error.Status;
        }
    }
}
