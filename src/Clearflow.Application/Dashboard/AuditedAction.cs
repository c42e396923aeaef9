using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Dashboard;

/// <summary>
/// Runs an operator's action: refuses it when the role does not allow it, and records every attempt
/// (allowed or not, succeeded or not) in the audit log: who, when, what, on what, why, how it ended.
/// </summary>
public sealed class AuditedAction(IDashboardStore store, IdGenerator ids, TimeProvider clock)
{
    public async Task<Result<T>> RunAsync<T>(OperatorIdentity who, string requiredRole, string action, string? target, string? reason,
        Func<Task<Result<T>>> act)
    {
        ArgumentNullException.ThrowIfNull(who);
        ArgumentNullException.ThrowIfNull(act);
        Result<T> result;
        if (!DashboardRoles.Allows(who.Role, requiredRole))
        {
            result = new Problem(403, "role-required", "Your role does not allow this.",
                $"'{action}' needs the {requiredRole} role or higher; you are signed in as {who.Role}. Ask an admin.");
        }
        else
        {
            result = await act();
        }
        var outcome = result.IsSuccess ? "ok" : $"refused: {result.Error!.Code}";
        await store.AddAuditAsync(new AuditRecord(ids.New("aud_"), who.MerchantId, who.Email, who.Role, action, target,
            string.IsNullOrWhiteSpace(reason) ? null : reason.Trim(), outcome, clock.GetUtcNow()), CancellationToken.None);
        return result;
    }

    /// <summary>A reason is required for actions that move money or close a case; the audit needs the why.</summary>
    public static Problem? RequireReason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? Problem.Validation("reason", "Say why: the audit log records it.")
        : reason.Length > 500 ? Problem.Validation("reason", "At most 500 characters.") : null;
}
