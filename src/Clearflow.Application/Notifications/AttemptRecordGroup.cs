using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Notifications;

/// <summary>
/// A delivery round's attempt records, written together (ADR 20). A record that comes while another write is under way
/// waits for it and goes with the next one, with every record that came meanwhile; each caller returns once its own
/// record is committed, as when each was written alone. A round's sends end close together (8 at a time, mostly
/// to the same few receivers), so this takes most records' round trips off the database. Should a combined write
/// fail, each of its records is written alone: one record the database refuses must not cost the others theirs,
/// since a delivery without its record is sent again when its lease ends.
/// </summary>
public sealed class AttemptRecordGroup(IClearflowStore store)
{
    private readonly Lock _gate = new();
    private List<(DeliveryResult Result, TaskCompletionSource Written)> _waiting = [];
    private bool _writing;

    public Task WriteAsync(DeliveryResult result, CancellationToken cancellationToken)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool writeNow;
        lock (_gate)
        {
            _waiting.Add((result, written));
            writeNow = !_writing;
            _writing = true;
        }
        return writeNow ? WriteWhileWaitingAsync(written.Task, cancellationToken) : written.Task;
    }

    /// <summary>Writes what waits, in turns, until nothing does; then returns when the caller's own record is written.</summary>
    private async Task WriteWhileWaitingAsync(Task own, CancellationToken cancellationToken)
    {
        while (true)
        {
            List<(DeliveryResult Result, TaskCompletionSource Written)> turn;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    break;
                }
                turn = _waiting;
                _waiting = [];
            }
            await WriteTurnAsync(turn, cancellationToken);
        }
        await own;
    }

    /// <summary>Never throws: each record's outcome goes to its own caller.</summary>
    private async Task WriteTurnAsync(List<(DeliveryResult Result, TaskCompletionSource Written)> turn, CancellationToken cancellationToken)
    {
        try
        {
            await store.RecordDeliveryAttemptsAsync([.. turn.Select(w => w.Result)], cancellationToken);
            turn.ForEach(w => w.Written.TrySetResult());
        }
        catch (Exception) when (turn.Count > 1 && !cancellationToken.IsCancellationRequested)
        {
            foreach (var (result, written) in turn)
            {
                try
                {
                    await store.RecordDeliveryAttemptsAsync([result], cancellationToken);
                    written.TrySetResult();
                }
                catch (Exception ex)
                {
                    written.TrySetException(ex);
                }
            }
        }
        catch (Exception ex)
        {
            turn.ForEach(w => w.Written.TrySetException(ex));
        }
    }
}
