using Clearflow.Domain.Pipeline;

namespace Clearflow.Application.Abstractions;

/// <summary>What a merchant is asked to deliver once an order is paid.</summary>
public sealed record FulfilmentRequest(string FulfilmentId, string OrderId, string MerchantId, string Receipt, long Amount, string Currency, string CustomerId,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// For those who embed Clearflow: fulfil in process instead of over HTTP (merchant setting
/// <c>fulfilment.mode = "in_process"</c>). <see cref="FulfilmentRequest.FulfilmentId"/> is the same on every
/// retry: use it to deliver once.
/// </summary>
public interface IFulfilmentHandler
{
    Task<FulfilmentOutcome> FulfilAsync(FulfilmentRequest request, CancellationToken cancellationToken);
}

/// <summary>Sends the signed fulfilment request to the merchant's endpoint.</summary>
public interface IFulfilmentSender
{
    /// <returns>The endpoint's status code, or null with the error when no answer came.</returns>
    Task<(int? StatusCode, string? Error)> SendAsync(Uri endpoint, string signingSecret, TimeSpan timeout, string webhookId, string payloadJson, CancellationToken cancellationToken);
}

/// <summary>
/// Crash injection for tests of resumability: called at each boundary between pipeline effects. The
/// production implementation does nothing.
/// </summary>
public interface IPipelineFaults
{
    void At(string boundary);
}

public sealed class NoPipelineFaults : IPipelineFaults
{
    public void At(string boundary)
    {
    }
}
