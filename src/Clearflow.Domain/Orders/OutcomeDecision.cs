namespace Clearflow.Domain.Orders;

/// <summary>What to do with an observation, decided without I/O.</summary>
public abstract record OutcomeDecision
{
    private OutcomeDecision() { }

    /// <summary>
    /// Move to <paramref name="To"/> from the status the decision was made on (the caller guards its
    /// conditional update with exactly that status, so what it records as "from" is true).
    /// </summary>
    public sealed record Move(OrderStatus To, string Reason, bool IsLateSuccess) : OutcomeDecision;

    /// <summary>Record on the timeline and change nothing.</summary>
    public sealed record Ignore(string Reason) : OutcomeDecision;

    /// <summary>
    /// The signal contradicts what Clearflow knows (e.g. a different amount): an operator must look.
    /// </summary>
    public sealed record Review(string Reason) : OutcomeDecision;
}
