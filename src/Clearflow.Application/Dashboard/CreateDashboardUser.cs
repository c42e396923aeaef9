using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Dashboard;

/// <summary>Adds a dashboard user to a merchant: the first admin from the CLI, others by an admin in the dashboard.</summary>
public sealed class CreateDashboardUser(IClearflowStore store, IPasswordHashing hashing, IdGenerator ids, TimeProvider clock)
{
    public const int MinPasswordLength = 12;

    public sealed record UserView(string Id, string Email, string Role, string MerchantId);

    public async Task<Result<UserView>> HandleAsync(string merchantId, string? email, string? role, string? password, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var normalised = email?.Trim().ToLowerInvariant();
        if (normalised is null || normalised.Length is < 3 or > 254 || normalised.IndexOf('@', StringComparison.Ordinal) is var at && (at <= 0 || at == normalised.Length - 1)
            || normalised.Any(char.IsWhiteSpace))
        {
            errors["email"] = ["An email address, like ops@example.com."];
        }
        if (!DashboardRoles.IsValid(role))
        {
            errors["role"] = [$"One of: {string.Join(", ", DashboardRoles.All)}."];
        }
        if (password is null || password.Length < MinPasswordLength || password.Length > 256)
        {
            errors["password"] = [$"At least {MinPasswordLength} characters (a passphrase is fine), at most 256."];
        }
        if (errors.Count > 0)
        {
            return Problem.Validation(errors);
        }
        if (await store.GetMerchantAsync(merchantId, cancellationToken) is null)
        {
            return Problem.NotFound("Merchant", merchantId);
        }
        var user = new DashboardUserRecord(ids.New("usr_"), merchantId, normalised!, hashing.Hash(password!), role!, 0, null, null, clock.GetUtcNow());
        if (!await store.AddDashboardUserAsync(user, cancellationToken))
        {
            return Problem.Conflict("email-taken", $"A dashboard user with the email '{normalised}' already exists.");
        }
        return new UserView(user.Id, user.Email, user.Role, user.MerchantId);
    }
}
