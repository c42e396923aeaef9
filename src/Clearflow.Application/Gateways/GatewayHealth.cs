using Clearflow.Domain.Gateways;

namespace Clearflow.Application.Gateways;

/// <summary>
/// The circuit of each gateway in this process, fed by the outcome of every payment creation. Shared by
/// all merchants: an outage is the gateway's, not one merchant's. Held in memory: each node learns on its
/// own, within a few failures, which is enough to steer new orders away from a failing gateway.
/// </summary>
public sealed class GatewayHealth(TimeProvider clock)
{
    public const int FailureThreshold = 3;
    public static readonly TimeSpan CoolDown = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public sealed record CircuitView(string Gateway, string State, int ConsecutiveFailures, DateTimeOffset? OpenedAt);

    /// <summary>Whether a new order may be sent to the gateway now (taking the half-open trial if it is due).</summary>
    public bool TryAllow(string gateway)
    {
        lock (_lock)
        {
            var (allowed, after) = Breaker(gateway).TryAllow(clock.GetUtcNow());
            _breakers[gateway] = after;
            return allowed;
        }
    }

    /// <summary>Whether the gateway's circuit is closed now. Unlike <see cref="TryAllow"/>, it changes nothing.</summary>
    public bool IsClosed(string gateway)
    {
        lock (_lock)
        {
            return Breaker(gateway).StateAt(clock.GetUtcNow()) == CircuitState.Closed;
        }
    }

    public void RecordSuccess(string gateway)
    {
        lock (_lock)
        {
            _breakers[gateway] = Breaker(gateway).RecordSuccess();
        }
    }

    public void RecordFailure(string gateway)
    {
        lock (_lock)
        {
            _breakers[gateway] = Breaker(gateway).RecordFailure(clock.GetUtcNow());
        }
    }

    public CircuitView View(string gateway)
    {
        lock (_lock)
        {
            var breaker = Breaker(gateway);
            return new CircuitView(gateway, Wire(breaker.StateAt(clock.GetUtcNow())), breaker.ConsecutiveFailures, breaker.OpenedAt);
        }
    }

    private CircuitBreaker Breaker(string gateway) =>
        _breakers.TryGetValue(gateway, out var breaker) ? breaker : new CircuitBreaker(FailureThreshold, CoolDown);

    private static string Wire(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        _ => "half_open",
    };
}
