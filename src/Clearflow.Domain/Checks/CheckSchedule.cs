namespace Clearflow.Domain.Checks;

/// <summary>
/// When a non-final payment is asked about again. Default, per the map: 1 minute after the customer
/// reaches the gateway, then 5 minutes later, then every 15 minutes, for at most 48 hours; an order never
/// paid expires after 30 minutes.
/// </summary>
public sealed record CheckSchedule(IReadOnlyList<TimeSpan> Intervals, TimeSpan RepeatEvery, TimeSpan MaxAge, TimeSpan ExpireUnpaidAfter)
{
    public static readonly CheckSchedule Default = new(
        [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5)], TimeSpan.FromMinutes(15), TimeSpan.FromHours(48), TimeSpan.FromMinutes(30));

    /// <summary>Shortest interval accepted: faster polling only burns gateway rate limits.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    public static readonly TimeSpan MaxMaxAge = TimeSpan.FromDays(30);

    /// <summary>Wait before the next check, after <paramref name="checksDone"/> answered checks.</summary>
    public TimeSpan DelayAfter(int checksDone) => checksDone < Intervals.Count ? Intervals[checksDone] : RepeatEvery;

    /// <summary>Backoff after consecutive failures to reach the gateway: 30 s doubling, never beyond <see cref="RepeatEvery"/>.</summary>
    public TimeSpan FailureBackoff(int consecutiveFailures)
    {
        var seconds = 30 * Math.Pow(2, Math.Clamp(consecutiveFailures - 1, 0, 20));
        return TimeSpan.FromSeconds(Math.Min(seconds, RepeatEvery.TotalSeconds));
    }

    /// <summary>Every problem with this schedule, as (field, message); empty when valid.</summary>
    public IEnumerable<(string Field, string Message)> Problems()
    {
        if (Intervals.Count > 20)
        {
            yield return ("intervals", "At most 20 intervals.");
        }
        foreach (var interval in Intervals)
        {
            if (interval < MinInterval || interval > MaxInterval)
            {
                yield return ("intervals", $"Each interval must be between {MinInterval:c} and {MaxInterval:c}; {interval:c} is not.");
                break;
            }
        }
        if (RepeatEvery < MinInterval || RepeatEvery > MaxInterval)
        {
            yield return ("repeat_every", $"Must be between {MinInterval:c} and {MaxInterval:c}.");
        }
        if (MaxAge < TimeSpan.FromMinutes(5) || MaxAge > MaxMaxAge)
        {
            yield return ("max_age", $"Must be between 00:05:00 and {MaxMaxAge.TotalDays} days.");
        }
        if (ExpireUnpaidAfter < TimeSpan.FromMinutes(1) || ExpireUnpaidAfter > MaxAge)
        {
            yield return ("expire_unpaid_after", "Must be at least 00:01:00 and not longer than max_age.");
        }
    }
}
