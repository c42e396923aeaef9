using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
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
        using var request = SignedRequest(endpoint, [signingSecret], webhookId, payloadJson);
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
        using var request = SignedRequest(endpoint, secrets, webhookId, payloadJson);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.Value.WebhookTimeout);
        try
        {
            using var response = await httpClients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            return ((int)response.StatusCode, await ExcerptAsync(response.Content, limit.Token, cancellationToken), null);
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

    /// <summary>Characters of a merchant's answer kept with the delivery's record.</summary>
    private const int ExcerptLength = 500;

    /// <summary>
    /// The POST of <paramref name="payloadJson"/>, signed with each of <paramref name="secrets"/> (during a secret
    /// rotation both sign; receivers accept any one that verifies). The body is encoded once, behind the
    /// <c>id.timestamp.</c> prefix the signature covers, and sent from the same buffer.
    /// </summary>
    private HttpRequestMessage SignedRequest(Uri endpoint, IReadOnlyList<string> secrets, string webhookId, string payloadJson)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefixLength = Encoding.UTF8.GetByteCount(webhookId) + timestamp.Length + 2;
        var signed = new byte[prefixLength + Encoding.UTF8.GetByteCount(payloadJson)];
        var at = Encoding.UTF8.GetBytes(webhookId, signed);
        signed[at++] = (byte)'.';
        at += Encoding.UTF8.GetBytes(timestamp, signed.AsSpan(at));
        signed[at++] = (byte)'.';
        Encoding.UTF8.GetBytes(payloadJson, signed.AsSpan(at));

        var content = new ByteArrayContent(signed, prefixLength, signed.Length - prefixLength);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
        request.Headers.TryAddWithoutValidation("webhook-id", webhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", secrets.Count == 1
            ? Sign(secrets[0], signed)
            : string.Join(' ', secrets.Select(secret => Sign(secret, signed))));
        return request;
    }

    /// <summary>
    /// Up to <see cref="ExcerptLength"/> characters of an answer, read through a pooled buffer: what has arrived once
    /// <see cref="ExcerptLength"/> bytes have (as the former character-by-character read waited for), or the whole
    /// answer if shorter. Null when the answer's body does not come in time: its status code still counts.
    /// </summary>
    private static async Task<string?> ExcerptAsync(HttpContent content, CancellationToken timeout, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ExcerptLength * 4);
        try
        {
            await using var stream = await content.ReadAsStreamAsync(timeout);
            var length = await stream.ReadAtLeastAsync(buffer.AsMemory(0, ExcerptLength * 4), ExcerptLength, throwOnEndOfStream: false, timeout);
            var bytes = buffer.AsSpan(0, length);
            if (bytes.StartsWith("\uFEFF"u8))
            {
                bytes = bytes[3..]; // a byte order mark is not part of the text
            }
            // PostgreSQL's text cannot hold U+0000: a receiver's stray NUL would make the attempt's record fail on every
            // retry, and the delivery be sent again at each lease's end, forever.
            var text = Encoding.UTF8.GetString(bytes[..WholeCharacters(bytes)]).Replace('\0', '\uFFFD');
            // Not between the two halves of a surrogate pair: half a character cannot be encoded, and would be stored as a
            // replacement character.
            return text.Length <= ExcerptLength ? text : text[..(char.IsHighSurrogate(text[ExcerptLength - 1]) ? ExcerptLength - 1 : ExcerptLength)];
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The length of <paramref name="utf8"/> without a character whose bytes were cut off at its end.</summary>
    private static int WholeCharacters(ReadOnlySpan<byte> utf8)
    {
        var lead = utf8.Length - 1;
        while (lead >= 0 && lead > utf8.Length - 4 && (utf8[lead] & 0xC0) == 0x80)
        {
            lead--; // back over continuation bytes to the character's first byte
        }
        if (lead < 0 || utf8[lead] < 0x80)
        {
            return utf8.Length;
        }
        var needed = utf8[lead] >= 0xF0 ? 4 : utf8[lead] >= 0xE0 ? 3 : 2;
        return utf8.Length - lead >= needed ? utf8.Length : lead;
    }

    /// <summary><c>v1,base64(HMAC-SHA256(key, id.timestamp.body))</c>, the secret being <c>whsec_</c> and the key's base64.</summary>
    private static string Sign(string secret, ReadOnlySpan<byte> signed)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, signed, mac);
        return "v1," + Convert.ToBase64String(mac);
    }
}
