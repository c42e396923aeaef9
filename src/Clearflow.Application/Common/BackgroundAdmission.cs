using System.Diagnostics;

namespace Clearflow.Application.Common;

/// <summary>
/// Gives requests someone is waiting on precedence over background work on a busy machine. Each item of the
/// workers that run many at once (a pipeline task, a notification delivery) takes a turn here before it starts.
/// Inbox events do not: a customer is watching for the status they decide, so they count as waited on.
/// While no request waits for its answer, every item starts at once. While requests wait, only
/// <see cref="ItemsWhileRequestsWait"/> items run at a time and the others wait until the requests are answered
/// or an item finishes, never longer than <see cref="LongestWait"/>. An item already
/// <see cref="LateAfter"/> late is never held back: under sustained overload background work competes as before,
/// instead of falling further and further behind. See ADR 14.
/// </summary>
/// <remarks>
/// Only the start of an item is held back: an item already running finishes at its own pace and holds nothing a
/// request needs while it waits (its lease is taken when claimed, and lasts minutes). The wait is in real time:
/// it paces CPU, not business time; lateness is read on the injected clock, like the items' own times.
/// </remarks>
public sealed class BackgroundAdmission(TimeProvider clock, int itemsWhileRequestsWait, TimeSpan longestWait, TimeSpan lateAfter)
{
    /// <summary>Background items that may run while requests wait (in the benchmark, 0 or 1 gave no clearly shorter tail).</summary>
    public const int ItemsWhileRequestsWait = 2;

    /// <summary>The longest an item is held back; past it, it starts whatever is waiting.</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(50);

    /// <summary>An item this long past its due time starts at once (normally an item is done within ~150 ms of being due).</summary>
    public static readonly TimeSpan LateAfter = TimeSpan.FromSeconds(1);

    private int _waitingRequests;
    private int _runningItems;
    private TaskCompletionSource _changed = NewChange();

    public BackgroundAdmission(TimeProvider clock)
        : this(clock, ItemsWhileRequestsWait, LongestWait, LateAfter)
    {
    }

    /// <summary>Requests received and not yet answered (their response has not started).</summary>
    public int WaitingRequests => Volatile.Read(ref _waitingRequests);

    /// <summary>Background items running now.</summary>
    public int RunningItems => Volatile.Read(ref _runningItems);

    public void RequestReceived() => Interlocked.Increment(ref _waitingRequests);

    public void RequestAnswered()
    {
        if (Interlocked.Decrement(ref _waitingRequests) == 0)
        {
            SignalChange();
        }
    }

    /// <summary>Waits for the turn of an item due since <paramref name="dueSince"/>; dispose the turn when the item is done.</summary>
    public async ValueTask<Turn> WaitTurnAsync(DateTimeOffset dueSince, CancellationToken cancellationToken)
    {
        var late = clock.GetUtcNow() - dueSince >= lateAfter;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            // Read the change signal first: a change after the checks below completes it, so none is missed.
            var changed = Volatile.Read(ref _changed).Task;
            if (TryStart(mayExceedLimit: late || waited.Elapsed >= longestWait))
            {
                return new Turn(this);
            }
            var remaining = longestWait - waited.Elapsed;
            if (remaining > TimeSpan.Zero)
            {
                await Task.WhenAny(changed, Task.Delay(remaining, cancellationToken));
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private bool TryStart(bool mayExceedLimit)
    {
        while (true)
        {
            var running = Volatile.Read(ref _runningItems);
            if (!mayExceedLimit && WaitingRequests > 0 && running >= itemsWhileRequestsWait)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _runningItems, running + 1, running) == running)
            {
                return true;
            }
        }
    }

    private void ItemFinished()
    {
        Interlocked.Decrement(ref _runningItems);
        SignalChange();
    }

    private void SignalChange() => Interlocked.Exchange(ref _changed, NewChange()).TrySetResult();

    private static TaskCompletionSource NewChange() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A started background item; disposing it lets the next one start.</summary>
    public sealed class Turn : IDisposable
    {
        private BackgroundAdmission? _admission;

        internal Turn(BackgroundAdmission admission) => _admission = admission;

        public void Dispose() => Interlocked.Exchange(ref _admission, null)?.ItemFinished();
    }
}
