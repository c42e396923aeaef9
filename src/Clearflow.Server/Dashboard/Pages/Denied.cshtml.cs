using Microsoft.AspNetCore.Authorization;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class DeniedModel : DashboardPage
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
