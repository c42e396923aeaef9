namespace Clearflow.Application.Dashboard;

/// <summary>
/// Dashboard roles, from least to most: a viewer reads, an operator also acts on payments (re-check,
/// refund, retry fulfilment, resolve reviews, replay webhooks), an admin also manages settings, keys and users.
/// </summary>
public static class DashboardRoles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Operator, Admin];

    public static bool IsValid(string? role) => role is Viewer or Operator or Admin;

    /// <summary>Whether <paramref name="role"/> includes what <paramref name="required"/> may do.</summary>
    public static bool Allows(string role, string required) => Rank(role) >= Rank(required);

    private static int Rank(string role) => role switch
    {
        Admin => 3,
        Operator => 2,
        Viewer => 1,
        _ => 0,
    };
}

/// <summary>The signed-in dashboard user on whose behalf a use case runs.</summary>
public sealed record OperatorIdentity(string UserId, string Email, string MerchantId, string Role);

/// <summary>Password hashing, implemented with ASP.NET Core Identity's hasher (PBKDF2) by the host.</summary>
public interface IPasswordHashing
{
    string Hash(string password);

    /// <returns>Whether the password matches; <paramref name="rehash"/> is set when the stored hash uses outdated parameters.</returns>
    bool Verify(string hash, string password, out bool rehash);
}
