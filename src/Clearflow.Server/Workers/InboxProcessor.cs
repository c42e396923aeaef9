using System.Threading.Channels;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Payments;

namespace Clearflow.Server.Workers;

/// <summary>
/// In-process wake-up for the inbox processor: a bounded channel of events to claim (by id) or already leased to this
/// node (with their reads). When it is full, an event to claim is left to the sweep, and a leased one to the sweep once
/// its lease ends.
/// </summary>
public sealed class InboxSignal(ILogger<InboxSignal> logger) : IInboxSignal
{
    /// <summary>An event to process: claimed by its id, or, when it was stored leased to this node, on that lease and read.</summary>
    public sealed record Work(string Id, LeasedInboxEvent? Leased);

    private readonly Channel<Work> _channel = Channel.CreateBounded<Work>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify(string inboxEventId) => _channel.Writer.TryWrite(new Work(inboxEventId, null));

    public void NotifyLeased(LeasedInboxEvent leased)
    {
        if (!_channel.Writer.TryWrite(new Work(leased.Claimed.Event.Id, leased)))
        {
            // Stored and acknowledged, so not lost: its lease ends, then the sweep takes it. Worth knowing: the node is
            // 10,000 events behind.
            logger.LogWarning("Inbox event {InboxEventId} waits for its lease to end ({Lease}): the inbox processor's queue is full",
                leased.Claimed.Event.Id, ProcessInboxEvent.Lease);
        }
    }

    public ChannelReader<Work> Reader => _channel.Reader;
}

/// <summary>
/// Thin worker: processes inbox events as soon as they are signalled, and sweeps for due ones every
/// few seconds so that events stored by another node, deferred ones, or ones a crash interrupted are
/// never left behind. The signal is only a shortcut; the sweep is what guarantees progress.
/// </summary>
public sealed class InboxProcessor(IServiceScopeFactory scopes, InboxSignal signal, TimeProvider clock, ILogger<InboxProcessor> logger) : BackgroundService
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);

    /// <summary>Signalled events processed at once. Two events of one order may meet: the conditional transition sorts them out.</summary>
    public const int Consumers = 4;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll([.. Enumerable.Range(0, Consumers).Select(_ => ProcessSignalledAsync(stoppingToken)), SweepAsync(stoppingToken)]);

    private async Task ProcessSignalledAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var work in signal.Reader.ReadAllAsync(stoppingToken))
            {
                await ProcessAsync(work.Id, work.Leased, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    using var scope = scopes.CreateScope();
                    var due = await scope.ServiceProvider.GetRequiredService<IInboxStore>().ListDueInboxEventIdsAsync(clock.GetUtcNow(), 100, stoppingToken);
                    foreach (var id in due)
                    {
                        await ProcessAsync(id, null, stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Inbox sweep failed; retrying at the next tick");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessAsync(string inboxEventId, LeasedInboxEvent? leased, CancellationToken stoppingToken)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var process = scope.ServiceProvider.GetRequiredService<ProcessInboxEvent>();
            var outcome = leased is null ? await process.HandleAsync(inboxEventId, stoppingToken) : await process.HandleLeasedAsync(leased, stoppingToken);
            if (outcome is not null)
            {
                // A plain status move is every payment's normal path, already kept in the inbox row and the order's
                // timeline: Debug. What an operator may want to look at (ignored, review, unmatched, deferred): Information.
                var routine = !outcome.Contains(':', StringComparison.Ordinal) && outcome != "deferred";
                logger.Log(routine ? LogLevel.Debug : LogLevel.Information, "Inbox event {InboxEventId}: {Outcome}", inboxEventId, outcome);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The claim's lease runs out and the sweep takes the event again.
            logger.LogError(ex, "Processing inbox event {InboxEventId} failed; it will be retried", inboxEventId);
        }
    }
}
