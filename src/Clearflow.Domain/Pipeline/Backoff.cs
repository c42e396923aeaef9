namespace Clearflow.Domain.Pipeline;

/// <summary>
/// Exponential backoff with jitter for retried steps: base 2 s doubling per attempt, capped at 10 minutes,
/// then a random point in the upper half of that, so many retries scheduled together spread out.
/// </summary>
public static class Backoff
{
    public static readonly TimeSpan Base = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Cap = TimeSpan.FromMinutes(10);

    /// <param name="attempt">1 for the wait after the first failure</param>
    /// <param name="jitter">a number in [0, 1): the injected randomness</param>
    public static TimeSpan Delay(int attempt, double jitter)
    {
        var ceiling = Math.Min(Cap.TotalSeconds, Base.TotalSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        return TimeSpan.FromSeconds(ceiling * (0.5 + (0.5 * Math.Clamp(jitter, 0, 1))));
    }
}
