namespace Clearflow.Application.Common;

/// <summary>
/// Records written together (ADR 20): a record that comes while another write is under way waits for it and goes in
/// the next one, with every record that came meanwhile; each caller returns once its own record is committed, as when
/// each was written alone. No timer: a record written while nothing else is under way goes at once, alone. One per
/// round of a worker whose items end close together (a notification round's deliveries, the sandbox's webhooks).
/// </summary>
/// <param name="write">
/// writes a turn's records in one command and says, per record, in order, whether it was written (null) or refused
/// (the refusal, which goes to that record's caller); throws when the turn's fate is unknown, which goes to every caller
/// of the turn
/// </param>
/// <param name="roundStopping">
/// the round's own token, which only stopping the round cancels. Not an item's: a round's items often share a token that
/// one failing item cancels (<c>Parallel.ForEachAsync</c>), and that must not cancel the records of the others.
/// </param>
public sealed class GroupCommit<T>(Func<IReadOnlyList<T>, CancellationToken, Task<IReadOnlyList<Exception?>>> write, CancellationToken roundStopping)
{
    private readonly Lock _gate = new();
    private List<(T Record, TaskCompletionSource Written)> _waiting = [];
    private bool _writing;

    public Task WriteAsync(T record)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool writeNow;
        lock (_gate)
        {
            _waiting.Add((record, written));
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
            List<(T Record, TaskCompletionSource Written)> turn;
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
    private async Task WriteTurnAsync(List<(T Record, TaskCompletionSource Written)> turn)
    {
        try
        {
            var outcomes = await write([.. turn.Select(w => w.Record)], roundStopping);
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
