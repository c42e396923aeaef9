using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Checks;

/// <summary>
/// One round of the status poller: claims a batch of due orders (each due time is claimed by one node)
/// and checks them. An order whose check crashes keeps its lease time as next check, so it is retried.
/// </summary>
public sealed class RunDueStatusChecks(IStatusCheckStore store, CheckOrderStatus check, TimeProvider clock)
{
    /// <summary>How long a claimed check belongs to its worker before another may take it.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public sealed record Round(int Claimed, IReadOnlyList<(string OrderId, Exception Error)> Failures);

    public async Task<Round> HandleAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = await store.ClaimDueStatusChecksAsync(now, now + Lease, batchSize, cancellationToken);
        var failures = new List<(string, Exception)>();
        foreach (var orderId in due)
        {
            try
            {
                await check.HandleAsync(orderId, "poll", cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add((orderId, ex));
            }
        }
        return new Round(due.Count, failures);
    }
}
