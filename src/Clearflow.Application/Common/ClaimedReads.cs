namespace Clearflow.Application.Common;

/// <summary>
/// What a claim reads with the work it takes (a task's order and merchant, ADR 21; an inbox event's attempt, order and
/// merchant, ADR 19 and 23) is decided on only while it is this fresh, on the monotonic clock. Work that starts later (it
/// waited for a free slot, an admission turn, or in a queue) reads again, so a merchant's change counts for it as ADR 12
/// asks of the uncached reads.
/// </summary>
public static class ClaimedReads
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    /// <summary>Whether a read made at <paramref name="readAt"/> (<see cref="TimeProvider.GetTimestamp"/>) may still be decided on.</summary>
    public static bool AreFresh(TimeProvider clock, long readAt) => clock.GetElapsedTime(readAt) <= Freshness;
}
