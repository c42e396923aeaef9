namespace Clearflow.Domain.Notifications;

/// <summary>
/// When a failed notification is tried again: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, then daily, for
/// up to 3 days after the first attempt; after that it is abandoned (and can be replayed by hand).
/// </summary>
public static class DeliverySchedule
{
    public static readonly IReadOnlyList<TimeSpan> Delays =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromHours(24), TimeSpan.FromHours(24),
    ];

    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromDays(3);

    /// <summary>An endpoint that has failed without a single success for this long is disabled.</summary>
    public static readonly TimeSpan DisableEndpointAfter = TimeSpan.FromDays(3);

    /// <param name="attemptsDone">attempts made so far (at least 1)</param>
    /// <returns>The next attempt's time, or null to give up.</returns>
    public static DateTimeOffset? NextAttempt(int attemptsDone, DateTimeOffset firstAttemptAt, DateTimeOffset now)
    {
        if (attemptsDone < 1 || attemptsDone > Delays.Count)
        {
            return null;
        }
        var next = now + Delays[attemptsDone - 1];
        return next - firstAttemptAt <= GiveUpAfter ? next : null;
    }
}
