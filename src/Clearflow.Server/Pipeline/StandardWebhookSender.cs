using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Notifications;

namespace Clearflow.Server.Pipeline;

/// <summary>
/// Sends a signed request to a merchant endpoint, by the Standard Webhooks convention: headers
/// <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and
/// <c>webhook-signature: v1,base64(HMAC-SHA256(secret, id.timestamp.body))</c>, where the secret is the
/// base64 after <c>whsec_</c>.
/// </summary>
public sealed class StandardWebhookSender(IHttpClientFactory httpClients, Microsoft.Extensions.Options.IOptions<NotificationOptions> options, TimeProvider clock)
    : IFulfilmentSender, IWebhookSender
{
    public async Task<(int? StatusCode, string? Error)> SendAsync(Uri endpoint, string signingSecret, TimeSpan timeout, string webhookId, string payloadJson,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(payloadJson, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", webhookId);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", Sign(signingSecret, webhookId, timestamp, payloadJson));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var response = await httpClients.CreateClient(ClientName).SendAsync(request, limit.Token);
            return ((int)response.StatusCode, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return (null, "connection failed: " + ex.Message);
        }
    }

    /// <summary>Name of the HTTP client whose connections refuse internal addresses (see <see cref="Notifications.GuardedConnections"/>).</summary>
    public const string ClientName = "merchant-endpoints";

    public async Task<(int? StatusCode, string? ResponseExcerpt, string? Error)> SendAsync(Uri endpoint, IReadOnlyList<string> secrets, string webhookId, string payloadJson,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(secrets);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(payloadJson, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", webhookId);
        request.Headers.Add("webhook-timestamp", timestamp);
        // During a secret rotation both sign; receivers accept any one that verifies.
        request.Headers.TryAddWithoutValidation("webhook-signature", string.Join(' ', secrets.Select(s => Sign(s, webhookId, timestamp, payloadJson))));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.Value.WebhookTimeout);
        try
        {
            using var response = await httpClients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            var buffer = new char[500];
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(limit.Token));
            var read = await reader.ReadBlockAsync(buffer, limit.Token);
            return ((int)response.StatusCode, new string(buffer, 0, read), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, null, $"no answer within {options.Value.WebhookTimeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return (null, null, "connection failed: " + (ex.InnerException?.Message ?? ex.Message));
        }
    }

    public static string Sign(string secret, string id, string timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
    }
}
