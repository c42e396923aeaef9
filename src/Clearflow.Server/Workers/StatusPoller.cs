using Clearflow.Application.Checks;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Workers;

/// <summary>Settings of the background workers (section <c>Clearflow:Poller</c>).</summary>
public sealed class PollerOptions
{
    /// <summary>Run the background workers in this process (turn off on nodes that should only serve the API).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the poller looks for due checks. The schedule itself is per merchant and gateway.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Items claimed per round; a full batch is followed at once by another round.</summary>
    public int BatchSize { get; set; } = 100;
}

/// <summary>Runs <see cref="RunDueStatusChecks"/>: asks gateways about payments whose check is due.</summary>
public sealed class StatusPoller(IServiceScopeFactory scopes, IOptions<PollerOptions> options, TimeProvider clock, ILogger<StatusPoller> logger)
    : TimedWorker(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.Interval;

    protected override bool Enabled => options.Value.Enabled;

    protected override async Task<bool> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var round = await services.GetRequiredService<RunDueStatusChecks>().HandleAsync(options.Value.BatchSize, cancellationToken);
        foreach (var (orderId, error) in round.Failures)
        {
            Logger.LogError(error, "Status check of {OrderId} failed; it is retried when its lease ends", orderId);
        }
        return round.Claimed == options.Value.BatchSize;
    }
}
