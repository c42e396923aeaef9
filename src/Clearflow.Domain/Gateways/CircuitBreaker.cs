namespace Clearflow.Domain.Gateways;

public enum CircuitState
{
    /// <summary>Healthy: orders go to the gateway.</summary>
    Closed,

    /// <summary>Failing: new orders go to the next eligible gateway until the cool-down ends.</summary>
    Open,

    /// <summary>Cool-down over: one order may try the gateway; its outcome closes or reopens the circuit.</summary>
    HalfOpen,
}

/// <summary>
/// A circuit breaker over one gateway's calls, as a pure value: every change takes the time as an argument.
/// Only "unknown" outcomes (timeouts, connection errors, 5xx) count as failures; a refusal (4xx) means the
/// gateway is up. <see cref="FailureThreshold"/> consecutive failures open it for <see cref="CoolDown"/>; after
/// that, one trial is let through (half-open).
/// </summary>
public sealed record CircuitBreaker(int FailureThreshold, TimeSpan CoolDown)
{
    public int ConsecutiveFailures { get; private init; }
    public DateTimeOffset? OpenedAt { get; private init; }
    public DateTimeOffset? TrialStartedAt { get; private init; }

    public CircuitState StateAt(DateTimeOffset now) =>
        OpenedAt is null ? CircuitState.Closed
        : now - OpenedAt.Value < CoolDown ? CircuitState.Open
        : CircuitState.HalfOpen;

    /// <summary>Whether a new order may go to this gateway now, and the breaker after letting it (a half-open trial is taken once per cool-down).</summary>
    public (bool Allowed, CircuitBreaker After) TryAllow(DateTimeOffset now) => StateAt(now) switch
    {
        CircuitState.Closed => (true, this),
        CircuitState.HalfOpen when TrialStartedAt is null || now - TrialStartedAt.Value >= CoolDown => (true, this with { TrialStartedAt = now }),
        _ => (false, this),
    };

    public CircuitBreaker RecordSuccess() => this with { ConsecutiveFailures = 0, OpenedAt = null, TrialStartedAt = null };

    public CircuitBreaker RecordFailure(DateTimeOffset now)
    {
        var failures = ConsecutiveFailures + 1;
        // A failed half-open trial reopens at once; otherwise the threshold decides.
        var open = StateAt(now) == CircuitState.HalfOpen || failures >= FailureThreshold;
        return this with { ConsecutiveFailures = failures, OpenedAt = open ? now : OpenedAt, TrialStartedAt = null };
    }
}
