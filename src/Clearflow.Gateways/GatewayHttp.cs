using System.Net;
using Clearflow.Application.Abstractions;

namespace Clearflow.Gateways;

/// <summary>
/// How every connector sends a request: a time limit per call, and the line between "unknown" and
/// "refused". No answer, a connection failure, 5xx or 429 mean the outcome is unknown
/// (<see cref="GatewayUnavailableException"/>: ask again later, with the same idempotency key); any
/// other answer is returned for the connector to read, refusals included.
/// </summary>
public static class GatewayHttp
{
    public static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient http, HttpRequestMessage message, TimeSpan timeout, string gateway,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, deadline.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GatewayUnavailableException($"{gateway}: no answer within {timeout.TotalSeconds:0} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new GatewayUnavailableException($"{gateway}: connection failed: {ex.Message}", ex);
        }
        using (response)
        {
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throw new GatewayUnavailableException($"{gateway} answered {(int)response.StatusCode}");
            }
            try
            {
                return (response.StatusCode, await response.Content.ReadAsStringAsync(deadline.Token));
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                throw new GatewayUnavailableException($"{gateway}: the answer was cut off", ex);
            }
        }
    }
}
