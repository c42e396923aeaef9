using Clearflow.Domain.Orders;

namespace Clearflow.Domain.Checks;

/// <summary>What follows one status check of an order.</summary>
public abstract record CheckFollowUp
{
    private CheckFollowUp() { }

    /// <summary>Final or with an operator: no more automatic checks.</summary>
    public sealed record Stop : CheckFollowUp;

    public sealed record CheckAgain(DateTimeOffset At) : CheckFollowUp;

    /// <summary>Nothing was paid and the order's time is up.</summary>
    public sealed record Expire(string Reason) : CheckFollowUp;

    /// <summary>Patience is exhausted without a final answer: an operator decides. Never a guessed failure.</summary>
    public sealed record Review(string Reason) : CheckFollowUp;
}

/// <summary>The poller's rules, free of I/O so every branch is tested directly.</summary>
public static class StatusCheckPolicy
{
    /// <param name="status">the order's status after the answer was applied</param>
    /// <param name="answer">what the gateway answered; null when it has no payment to ask about (never reached it)</param>
    /// <param name="orderCreatedAt">expiry counts from here</param>
    /// <param name="checksStartedAt">max age counts from here: when the customer reached the gateway</param>
    /// <param name="checksDone">answered checks so far, this one included (the first wait, <c>Intervals[0]</c>, came before any)</param>
    public static CheckFollowUp AfterAnswer(OrderStatus status, GatewayPaymentStatus? answer, DateTimeOffset orderCreatedAt,
        DateTimeOffset checksStartedAt, int checksDone, DateTimeOffset now, CheckSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (OrderStateMachine.IsFinal(status) || status == OrderStatus.RequiresReview)
        {
            return new CheckFollowUp.Stop();
        }

        var expiresAt = orderCreatedAt + schedule.ExpireUnpaidAfter;
        // A pending order had a signal of a payment in progress. A "created" answer does not outweigh it (which of
        // the two is newer is not known: a webhook may have moved the order while this check was deciding), so the
        // order is not expired on it: it is asked again, and reviewed at its maximum age.
        var nothingPaid = (answer is null or GatewayPaymentStatus.Created) && status != OrderStatus.Pending;
        if (nothingPaid && now >= expiresAt)
        {
            return new CheckFollowUp.Expire(answer is null
                ? $"never reached the gateway within {schedule.ExpireUnpaidAfter:c}"
                : $"not paid within {schedule.ExpireUnpaidAfter:c}; the gateway confirms no payment was attempted");
        }

        var reviewAt = checksStartedAt + schedule.MaxAge;
        if (now >= reviewAt)
        {
            return new CheckFollowUp.Review($"no final status after {schedule.MaxAge:c} of checks; last gateway answer: {Describe(answer)}");
        }

        var next = now + schedule.DelayAfter(checksDone);
        if (nothingPaid && expiresAt > now && expiresAt < next)
        {
            next = expiresAt;
        }
        return new CheckFollowUp.CheckAgain(next < reviewAt ? next : reviewAt);
    }

    /// <summary>After the gateway could not be asked. Unknown is not failed: ask again with backoff, or hand to an operator.</summary>
    public static CheckFollowUp AfterFailure(OrderStatus status, DateTimeOffset checksStartedAt, int consecutiveFailures, DateTimeOffset now, CheckSchedule schedule, string error)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (OrderStateMachine.IsFinal(status) || status == OrderStatus.RequiresReview)
        {
            return new CheckFollowUp.Stop();
        }
        var reviewAt = checksStartedAt + schedule.MaxAge;
        if (now >= reviewAt)
        {
            return new CheckFollowUp.Review($"no final status after {schedule.MaxAge:c}; the gateway could not be asked ({error})");
        }
        var next = now + schedule.FailureBackoff(consecutiveFailures);
        return new CheckFollowUp.CheckAgain(next < reviewAt ? next : reviewAt);
    }

    private static string Describe(GatewayPaymentStatus? answer) => answer?.ToString().ToLowerInvariant() ?? "none (no gateway payment)";
}
