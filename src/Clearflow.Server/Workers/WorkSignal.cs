using System.Threading.Channels;

namespace Clearflow.Server.Workers;

/// <summary>
/// "There may be work for you now": lets a timed worker start its next round before its tick. Signals
/// coalesce (one pending at most) and carry no data; the worker's round reads what is due, so a lost or
/// doubled signal is harmless and the tick still guarantees progress.
/// </summary>
public sealed class WorkSignal
{
    private readonly Channel<bool> _pending = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _pending.Writer.TryWrite(true);

    /// <summary>Completes when a signal arrives (consuming it) or <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken) => await _pending.Reader.ReadAsync(cancellationToken);
}

/// <summary>Wakes the pipeline worker: an order's status changed, so a fulfil or compensate task may be due.</summary>
public sealed class PipelineWakeUp
{
    public WorkSignal Signal { get; } = new();
}

/// <summary>Wakes the notification worker: a status change commits outbox messages to fan out.</summary>
public sealed class NotificationWakeUp
{
    public WorkSignal Signal { get; } = new();
}
