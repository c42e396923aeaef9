using Clearflow.Application.Common;
using Clearflow.Application.Dashboard;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Clearflow.Server.Dashboard.Pages;

/// <summary>What every signed-in page shares: who is acting, and how an action's outcome is shown.</summary>
public abstract class DashboardPage : PageModel
{
    public OperatorIdentity Operator => DashboardAuth.Operator(User) ?? throw new InvalidOperationException("Dashboard pages require a signed-in user.");

    public bool CanAct => DashboardRoles.Allows(Operator.Role, DashboardRoles.Operator);

    public bool IsAdmin => DashboardRoles.Allows(Operator.Role, DashboardRoles.Admin);

    /// <summary>
    /// After an action: success redirects (post/redirect/get) with a message; a refusal re-renders with the
    /// problem's message and status (403 for a missing role, 422 for bad input...), never a silent no-op.
    /// </summary>
    protected async Task<IActionResult> AfterAsync(Result<string> result, string successMessage, Func<Task> reload)
    {
        ArgumentNullException.ThrowIfNull(reload);
        if (result.IsSuccess)
        {
            TempData["ok"] = $"{successMessage}: {result.Value}.";
            return RedirectToPage();
        }
        var problem = result.Error!;
        TempData["error"] = problem.Errors is { Count: > 0 } errors
            ? $"{problem.Title} {string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}"
            : $"{problem.Title} {problem.Detail}";
        Response.StatusCode = problem.Status;
        await reload();
        return Page();
    }
}
