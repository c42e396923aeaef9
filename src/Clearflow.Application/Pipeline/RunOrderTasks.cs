using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Pipeline;

/// <summary>
/// One round of the pipeline after transitions: claims due tasks (a lease, so a crashed worker's task comes
/// back) and runs each as its step. A step that throws is left to its lease and retried; the step's own
/// records (task status, refund key, fulfilment id) make sure a finished effect is never repeated.
/// </summary>
public sealed class RunOrderTasks(IOrderTaskStore store, FulfilOrder fulfil, CompensateOrder compensate, BackgroundAdmission admission, TimeProvider clock)
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    /// <summary>Tasks of a batch run at once (most of a task's time is waiting on the merchant and the gateway).</summary>
    public const int Parallelism = 8;

    public sealed record Round(int Claimed, IReadOnlyList<(string TaskId, Exception Error)> Failures);

    public async Task<Round> HandleAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var claimedAt = clock.GetTimestamp(); // a task that starts later than ClaimedReads.Freshness reads its order and merchant again (ADR 21)
        var claim = await store.ClaimDueOrderTasksAsync(now, now + Lease, batchSize, cancellationToken);
        var tasks = claim.Tasks;
        var failures = new System.Collections.Concurrent.ConcurrentBag<(string, Exception)>();
        // Tasks of one batch belong to different orders (one task per order and kind, a compensate only after
        // its fulfil is finished), and every effect is guarded in storage, so they may run side by side.
        await Parallel.ForEachAsync(tasks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (task, ct) =>
        {
            using var turn = await admission.WaitTurnAsync(task.CreatedAt, ct);
            try
            {
                _ = task.Kind switch
                {
                    OrderTaskRecord.Fulfil => await fulfil.HandleAsync(task, ClaimedReads.AreFresh(clock, claimedAt) ? claim.ReadFor(task) : null, ct),
                    OrderTaskRecord.Compensate => await compensate.HandleAsync(task, ct),
                    _ => throw new InvalidOperationException($"Unknown task kind {task.Kind}."),
                };
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add((task.Id, ex));
            }
        });
        return new Round(tasks.Count, [.. failures]);
    }
}
