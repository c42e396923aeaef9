using Clearflow.Application.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Clearflow.Server.Dashboard.Pages;

[AllowAnonymous]
public sealed class LoginModel(SignInDashboardUser signIn, TimeProvider clock) : PageModel
{
    public string? Error { get; private set; }
    public string? Email { get; private set; }
    public string? ReturnUrl { get; private set; }

    public void OnGet(string? returnUrl) => ReturnUrl = returnUrl;

    public async Task<IActionResult> OnPostAsync(string? email, string? password, string? returnUrl, CancellationToken cancellationToken)
    {
        var result = await signIn.HandleAsync(email, password, cancellationToken);
        if (!result.IsSuccess)
        {
            Email = email;
            ReturnUrl = returnUrl;
            Error = result.Error!.Detail;
            Response.StatusCode = result.Error.Status;
            return Page();
        }
        await HttpContext.SignInAsync(DashboardAuth.Scheme, DashboardAuth.Principal(result.Value!, clock.GetUtcNow()));
        // Only a local dashboard path: never an open redirect.
        return LocalRedirect(returnUrl is { } url && url.StartsWith("/dashboard", StringComparison.Ordinal) && Url.IsLocalUrl(url) ? url : "/dashboard");
    }
}
