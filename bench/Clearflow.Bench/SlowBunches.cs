using System.Globalization;

namespace Clearflow.Bench;

/// <summary>
/// Whether a latency tail is spread evenly or comes in bunches, and how often: the measured create-orders slower than
/// the run's p95, grouped into bunches of requests that started within <see cref="Apart"/> of the previous slow one.
/// A steady period between bunches points at something that runs on a timer or in a cycle; slow requests spread evenly
/// point at load alone.
/// </summary>
public static class SlowBunches
{
    /// <summary>Slow requests that started closer than this to the previous slow one are one bunch.</summary>
    public static readonly TimeSpan Apart = TimeSpan.FromMilliseconds(150);

    /// <param name="requests">each measured request: when it started (from the start of the measured part) and how long it took</param>
    public static string Describe(IReadOnlyCollection<(TimeSpan Started, TimeSpan Took)> requests)
    {
        if (requests.Count < 100)
        {
            return "too few requests to tell";
        }
        var p95 = requests.Select(r => r.Took).Order().ElementAt((int)(requests.Count * 0.95));
        var slow = requests.Where(r => r.Took > p95).Select(r => r.Started).Order().ToList();
        if (slow.Count == 0)
        {
            return $"none slower than p95 ({p95.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms)";
        }
        var starts = new List<TimeSpan> { slow[0] };
        for (var i = 1; i < slow.Count; i++)
        {
            if (slow[i] - slow[i - 1] >= Apart)
            {
                starts.Add(slow[i]);
            }
        }
        var gaps = starts.Zip(starts.Skip(1), (a, b) => (b - a).TotalMilliseconds).Order().ToList();
        string Gap(double q) => gaps.Count == 0 ? "-" : gaps[Math.Min(gaps.Count - 1, (int)(q * gaps.Count))].ToString("0", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"{slow.Count} slower than p95 ({p95.TotalMilliseconds:0.0} ms) in {starts.Count} bunches, {(double)slow.Count / starts.Count:0.0} per bunch; " +
            $"between bunches p25 / p50 / p75 {Gap(0.25)} / {Gap(0.5)} / {Gap(0.75)} ms");
    }
}
