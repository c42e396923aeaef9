using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Notifications;

/// <summary>
/// A delivery round's attempt records, written together (ADR 20). A record that comes while another write is under way
/// waits for it and goes with the next one, with every record that came meanwhile; each caller returns once its own
/// record is committed, as when each was written alone. A round's sends end close together (8 at a time, mostly
/// to the same few receivers), so this takes most records' round trips off the database. A record the database
/// refuses fails alone (the store writes the others one by one), since a delivery without its record is sent again
/// when its lease ends.
/// </summary>
/// <param name="roundStopping">
/// the round's own token, which only stopping the round cancels. Not a send's: the sends of a round share a token that
/// one failing send cancels, and that must not cancel the records of the others, already answered.
/// </param>
public sealed class AttemptRecordGroup(IClearflowStore store, CancellationToken roundStopping)
{
    private readonly Lock _gate = new();
    private List<(DeliveryResult Result, TaskCompletionSource Written)> _waiting = [];
    private bool _writing;

    public Task WriteAsync(DeliveryResult result)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool writeNow;
        lock (_gate)
        {
            _waiting.Add((result, written));
            writeNow = !_writing;
            _writing = true;
        }
        return writeNow ? WriteWhileWaitingAsync(written.Task) : written.Task;
    }

    /// <summary>Writes what waits, in turns, until nothing does; then returns when the caller's own record is written.</summary>
    private async Task WriteWhileWaitingAsync(Task own)
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
            await WriteTurnAsync(turn);
        }
        await own;
    }

    /// <summary>Never throws: each record's outcome goes to its own caller.</summary>
    private async Task WriteTurnAsync(List<(DeliveryResult Result, TaskCompletionSource Written)> turn)
    {
        try
        {
            var outcomes = await store.RecordDeliveryAttemptsAsync([.. turn.Select(w => w.Result)], roundStopping);
            for (var i = 0; i < turn.Count; i++)
            {
                if (outcomes[i] is { } refused)
                {
                    turn[i].Written.TrySetException(refused);
                }
                else
                {
                    turn[i].Written.TrySetResult();
                }
            }
        }
        catch (Exception ex)
        {
            turn.ForEach(w => w.Written.TrySetException(ex));
        }
    }
}
