using System.Globalization;
using System.Security.Claims;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Dashboard;

/// <summary>Dashboard sessions: a cookie per signed-in user, re-checked against the user's record on every request.</summary>
public static class DashboardAuth
{
    public const string Scheme = "Dashboard";
    public const string ViewerPolicy = "dashboard.viewer";
    public const string OperatorPolicy = "dashboard.operator";
    public const string AdminPolicy = "dashboard.admin";

    private const string UserIdClaim = "dashboard_user_id";
    private const string MerchantClaim = "dashboard_merchant_id";
    private const string SignedInAtClaim = "dashboard_signed_in_at";

    public static ClaimsPrincipal Principal(OperatorIdentity who, DateTimeOffset signedInAt)
    {
        ArgumentNullException.ThrowIfNull(who);
        return new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(UserIdClaim, who.UserId), new Claim(ClaimTypes.Name, who.Email), new Claim(MerchantClaim, who.MerchantId),
            new Claim(ClaimTypes.Role, who.Role), new Claim(SignedInAtClaim, signedInAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
        ], Scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static OperatorIdentity? Operator(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(UserIdClaim) is { } id
            ? new OperatorIdentity(id, user.FindFirstValue(ClaimTypes.Name)!, user.FindFirstValue(MerchantClaim)!, user.FindFirstValue(ClaimTypes.Role)!)
            : null;
    }

    public static IServiceCollection AddDashboardAuthentication(this IServiceCollection services)
    {
        services.AddOptions<DashboardOptions>().BindConfiguration("Clearflow:Dashboard")
            .Validate(o => o.SessionIdle >= TimeSpan.FromMinutes(1) && o.SessionMax >= o.SessionIdle, "Clearflow:Dashboard needs SessionIdle >= 1 min and SessionMax >= SessionIdle.")
            .ValidateOnStart();
        services.AddAuthentication().AddCookie(Scheme, _ => { });
        services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<IOptions<DashboardOptions>>((o, dashboard) =>
        {
            o.LoginPath = "/dashboard/login";
            o.LogoutPath = "/dashboard/logout";
            o.AccessDeniedPath = "/dashboard/denied";
            o.Cookie.Name = "clearflow_dashboard";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/dashboard";
            o.ExpireTimeSpan = dashboard.Value.SessionIdle;
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = ValidateAsync;
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(ViewerPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(MerchantClaim).RequireRole(DashboardRoles.All))
            .AddPolicy(OperatorPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(MerchantClaim).RequireRole(DashboardRoles.Operator, DashboardRoles.Admin))
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(MerchantClaim).RequireRole(DashboardRoles.Admin));
        return services;
    }

    /// <summary>
    /// Ends the session when it is older than the absolute limit, or when the user was removed or their
    /// role changed since sign-in (a demoted operator loses the operator's rights at once).
    /// </summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<IOptions<DashboardOptions>>().Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var who = Operator(context.Principal!);
        var signedIn = long.TryParse(context.Principal!.FindFirstValue(SignedInAtClaim), CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds) : DateTimeOffset.MinValue;
        var user = who is null ? null : await services.GetRequiredService<IDashboardStore>().GetDashboardUserAsync(who.UserId, context.HttpContext.RequestAborted);
        if (user is null || user.Role != who!.Role || user.MerchantId != who.MerchantId || now - signedIn > options.SessionMax)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}

public sealed class DashboardOptions
{
    /// <summary>A session ends after this long without a request.</summary>
    public TimeSpan SessionIdle { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>...and after this long in any case: sign in again.</summary>
    public TimeSpan SessionMax { get; set; } = TimeSpan.FromHours(12);
}

/// <summary>ASP.NET Core Identity's password hasher (PBKDF2-HMAC-SHA512, 100,000 iterations, salted) behind the application's port.</summary>
public sealed class IdentityPasswordHashing : IPasswordHashing
{
    private sealed class Account;

    private static readonly Microsoft.AspNetCore.Identity.PasswordHasher<Account> Hasher = new();
    private static readonly Account Anyone = new();

    public string Hash(string password) => Hasher.HashPassword(Anyone, password);

    public bool Verify(string hash, string password, out bool rehash)
    {
        var result = Hasher.VerifyHashedPassword(Anyone, hash, password);
        rehash = result == Microsoft.AspNetCore.Identity.PasswordVerificationResult.SuccessRehashNeeded;
        return result != Microsoft.AspNetCore.Identity.PasswordVerificationResult.Failed;
    }
}
