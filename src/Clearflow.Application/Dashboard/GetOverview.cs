using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Dashboard;

/// <summary>The dashboard's first page: volume and success rate per day, open orders by age, and what waits for a person.</summary>
public sealed class GetOverview(IDashboardStore store, TimeProvider clock)
{
    public const int Days = 14;

    /// <summary>Age buckets for open orders, newest first; the last bucket is everything older.</summary>
    public static readonly IReadOnlyList<(string Label, TimeSpan OlderThan)> AgeBuckets =
    [
        ("under 15 min", TimeSpan.Zero), ("15 min - 1 h", TimeSpan.FromMinutes(15)), ("1 h - 24 h", TimeSpan.FromHours(1)), ("over 24 h", TimeSpan.FromHours(24)),
    ];

    public sealed record DayPoint(DateOnly Day, int Orders, int Paid, double SuccessRate);

    public sealed record Overview(IReadOnlyList<DayPoint> Days, IReadOnlyList<DailyVolume> VolumeByCurrency, IReadOnlyList<(string Label, int Count)> OpenByAge,
        int RequiresReview);

    public async Task<Overview> HandleAsync(string merchantId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var firstDay = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-(Days - 1));
        var volume = await store.DailyVolumeAsync(merchantId, new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), cancellationToken);
        var days = Enumerable.Range(0, Days).Select(i => firstDay.AddDays(i)).Select(day =>
        {
            var orders = volume.Where(v => v.Day == day).Sum(v => v.Orders);
            var paid = volume.Where(v => v.Day == day).Sum(v => v.Paid);
            // A share for display only; counts stay integers and money never passes through a double.
            return new DayPoint(day, orders, paid, orders == 0 ? 0 : Math.Round(100.0 * paid / orders, 1));
        }).ToArray();
        var counts = await store.OpenOrdersByAgeAsync(merchantId, [.. AgeBuckets.Skip(1).Select(b => now - b.OlderThan)], cancellationToken);
        var byAge = AgeBuckets.Select((b, i) => (b.Label, counts[i])).ToArray();
        return new Overview(days, volume, byAge, await store.CountOrdersAsync(merchantId, OrderStatus.RequiresReview.ToWire(), cancellationToken));
    }
}
