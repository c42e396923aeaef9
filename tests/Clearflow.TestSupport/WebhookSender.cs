namespace Clearflow.TestSupport;

/// <summary>How the fakes deliver events; each fake's public <c>Delivery</c> enum is numbered the same way.</summary>
internal enum DeliveryHabit
{
    /// <summary>Each event is sent once (plus retries when it is not acknowledged).</summary>
    Once,

    /// <summary>Each event is sent twice: the receiver must deduplicate.</summary>
    Duplicate,

    /// <summary>Events are queued until <see cref="WebhookSender{THook}.ReleaseHeldAsync"/>, which sends them newest first.</summary>
    HeldThenReversed,
}

/// <summary>
/// Webhook (or notification) delivery as the loopback gateway fakes play it: a habit (once, duplicated, held then
/// reversed), one delivery at a time, bounded retries 200 ms apart while the target does not acknowledge with 2xx,
/// the status of every attempt, and background deliveries a test can wait for.
/// </summary>
/// <remarks>
/// The gateway-specific part, how one attempt is posted (body, signature, headers), is the <c>post</c> delegate.
/// It guards its lists with the fake's own lock, so answers and held events stay consistent with the fake's state.
/// </remarks>
/// <typeparam name="THook">One event as the fake keeps it until it is sent: its exact bytes are fixed once, so retries and duplicates resend the same thing.</typeparam>
internal sealed class WebhookSender<THook> : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly Lock _gate;
    private readonly Func<Uri, THook, int, Task<int>> _post;

    /// <summary>One delivery at a time, so the order a test causes events in is the order Clearflow sees them.</summary>
    private readonly SemaphoreSlim _sending = new(1, 1);

    private readonly List<int> _answers = [];
    private readonly List<THook> _held = [];
    private readonly List<Task> _background = [];
    private volatile Uri? _target;
    private volatile DeliveryHabit _habit = DeliveryHabit.Once;
    private volatile int _retries = 2;

    /// <param name="gate">The fake's lock; never held across an await.</param>
    /// <param name="post">Posts one attempt (numbered from 1) of an event to the target and returns the HTTP status, 0 when there was no answer.</param>
    public WebhookSender(Lock gate, Func<Uri, THook, int, Task<int>> post)
    {
        _gate = gate;
        _post = post;
    }

    /// <summary>Where events are POSTed; null means events are dropped (nothing is sent or queued).</summary>
    public Uri? Target
    {
        get => _target;
        set => _target = value;
    }

    public DeliveryHabit Habit
    {
        get => _habit;
        set => _habit = value;
    }

    /// <summary>How many more times a delivery is attempted after a non-2xx answer (or no answer); bounded (0..10) so a failing receiver cannot stall a test.</summary>
    public int Retries
    {
        get => _retries;
        set => _retries = Math.Clamp(value, 0, 10);
    }

    /// <summary>The HTTP status of every delivery attempt, in order; 0 when the target did not answer.</summary>
    public IReadOnlyList<int> Answers
    {
        get
        {
            lock (_gate)
            {
                return _answers.ToArray();
            }
        }
    }

    /// <summary>Sends (or holds, or drops) the event according to the habit; returns when it has been delivered.</summary>
    public Task DispatchAsync(THook evt)
    {
        if (_target is null)
        {
            return Task.CompletedTask;
        }
        if (_habit == DeliveryHabit.HeldThenReversed)
        {
            lock (_gate)
            {
                _held.Add(evt);
            }
            return Task.CompletedTask;
        }
        return SendAsync(evt, _habit == DeliveryHabit.Duplicate ? 2 : 1);
    }

    /// <summary>
    /// Dispatches the event without waiting, for events caused while the receiver may be calling the fake from
    /// inside its own webhook handling; <see cref="WaitForDeliveriesAsync"/> waits for it.
    /// </summary>
    public void DispatchInBackground(THook evt)
    {
        var delivery = DispatchQuietlyAsync(evt);
        lock (_gate)
        {
            _background.Add(delivery);
        }
    }

    /// <summary>Sends the held events, newest first, each with the usual retries.</summary>
    public async Task ReleaseHeldAsync()
    {
        THook[] held;
        lock (_gate)
        {
            held = [.. _held];
            _held.Clear();
        }
        for (var i = held.Length - 1; i >= 0; i--)
        {
            await DeliverAsync(held[i]);
        }
    }

    /// <summary>Waits for background deliveries to finish, retries included.</summary>
    public async Task WaitForDeliveriesAsync()
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _background];
        }
        await Task.WhenAll(pending);
    }

    /// <summary>Waits for background deliveries before the fake shuts down, ignoring how they ended.</summary>
    public async Task DrainAsync()
    {
        try
        {
            await WaitForDeliveriesAsync();
        }
        catch (Exception)
        {
            // A late delivery failing must not hide the test's own outcome.
        }
    }

    /// <summary>
    /// Under the one-at-a-time rule, runs <paramref name="before"/> (such as the browser's return to the merchant),
    /// then delivers the event once, or twice in a row when the habit is <see cref="DeliveryHabit.Duplicate"/>; never held.
    /// </summary>
    public async Task DeliverAfterAsync(Func<Task> before, THook evt)
    {
        ArgumentNullException.ThrowIfNull(before);
        await _sending.WaitAsync();
        try
        {
            await before();
            var times = _habit == DeliveryHabit.Duplicate ? 2 : 1;
            for (var i = 0; i < times; i++)
            {
                await AttemptAsync(evt);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    public void Dispose() => _sending.Dispose();

    private async Task SendAsync(THook evt, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await DeliverAsync(evt);
        }
    }

    /// <summary>One delivery under the one-at-a-time rule, with bounded retries.</summary>
    private async Task DeliverAsync(THook evt)
    {
        await _sending.WaitAsync();
        try
        {
            await AttemptAsync(evt);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task DispatchQuietlyAsync(THook evt)
    {
        await Task.Yield();
        try
        {
            await DispatchAsync(evt);
        }
        catch (ObjectDisposedException)
        {
            // The fake was disposed mid-delivery; nobody is left to care.
        }
    }

    /// <summary>POSTs the event, then retries it while the target does not acknowledge with 2xx, 200 ms apart.</summary>
    private async Task AttemptAsync(THook evt)
    {
        for (var attempt = 0; ; attempt++)
        {
            var target = _target;
            if (target is null)
            {
                return;
            }
            var status = await _post(target, evt, attempt + 1);
            lock (_gate)
            {
                _answers.Add(status);
            }
            if (status is >= 200 and < 300 || attempt >= _retries)
            {
                return;
            }
            await Task.Delay(RetryDelay);
        }
    }
}
