namespace Clearflow.Domain.Pipeline;

public enum FulfilmentOutcome
{
    Fulfilled,
    /// <summary>Worth trying again: 5xx, 408, 429, timeout, connection error.</summary>
    Transient,
    /// <summary>The merchant said no (4xx): trying again will not change that.</summary>
    Permanent,
}

public static class FulfilmentOutcomes
{
    /// <param name="statusCode">the merchant endpoint's answer; null when none came (timeout, connection error)</param>
    public static FulfilmentOutcome Classify(int? statusCode) => statusCode switch
    {
        null => FulfilmentOutcome.Transient,
        >= 200 and < 300 => FulfilmentOutcome.Fulfilled,
        408 or 425 or 429 => FulfilmentOutcome.Transient,
        >= 400 and < 500 => FulfilmentOutcome.Permanent,
        _ => FulfilmentOutcome.Transient,
    };
}
