using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Dashboard;

/// <summary>
/// Checks a dashboard sign-in. Unknown email, wrong password and locked account answer alike (and take
/// alike: a missing user is checked against a throwaway hash, a locked one against its own), so accounts
/// cannot be discovered: only existing accounts can be locked, so a distinct "locked" answer would tell which
/// emails exist. Five failures in a row lock the account for fifteen minutes; the one answer says so.
/// </summary>
public sealed class SignInDashboardUser(IDashboardStore store, IPasswordHashing hashing, TimeProvider clock)
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan LockDuration = TimeSpan.FromMinutes(15);

    private static readonly Lazy<string> Decoy = new(() => Secrets.RandomToken(24));
    private static string? s_decoyHash;

    public async Task<Result<OperatorIdentity>> HandleAsync(string? email, string? password, CancellationToken cancellationToken)
    {
        var user = string.IsNullOrWhiteSpace(email) ? null : await store.FindDashboardUserByEmailAsync(email.Trim().ToLowerInvariant(), cancellationToken);
        var now = clock.GetUtcNow();
        if (user is null)
        {
            // The same work as for a real account (one verification), so timing does not tell which emails exist.
            hashing.Verify(s_decoyHash ??= hashing.Hash(Decoy.Value), password ?? "", out _);
            return Invalid();
        }
        if (user.LockedUntil is { } until && until > now)
        {
            hashing.Verify(user.PasswordHash, password ?? "", out _); // even the right password is refused while locked
            return Invalid();
        }
        if (!hashing.Verify(user.PasswordHash, password ?? "", out _))
        {
            // One atomic statement: concurrent guesses cannot all read the same count and slip past the lock.
            await store.RecordFailedSignInAsync(user.Id, MaxFailures, now + LockDuration, cancellationToken);
            return Invalid();
        }
        await store.RecordSignInAsync(user.Id, 0, null, now, cancellationToken);
        return new OperatorIdentity(user.Id, user.Email, user.MerchantId, user.Role);
    }

    private static Problem Invalid() => new(401, "invalid-credentials", "Sign-in failed.",
        $"The email or the password is wrong, or the account is locked: after {MaxFailures} failed sign-ins in a row it is locked for {LockDuration.TotalMinutes:0} minutes.");
}
