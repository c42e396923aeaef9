using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Clearflow.Server.Dashboard.Pages;

/// <summary>
/// Signing out needs the session's identity loaded (the dashboard cookie is not the default scheme): the
/// anti-forgery token of the form was issued to that identity and is checked against it.
/// </summary>
[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/dashboard/login");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(DashboardAuth.Scheme);
        return Redirect("/dashboard/login");
    }
}
