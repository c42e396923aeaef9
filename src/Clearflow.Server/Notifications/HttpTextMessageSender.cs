using System.Net.Http.Headers;
using System.Net.Http.Json;
using Clearflow.Application.Notifications;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Notifications;

/// <summary>Settings of the text message provider (section <c>Clearflow:TextMessages</c>). Without a URL, no texts are sent.</summary>
public sealed class TextMessageOptions
{
    /// <summary>The provider adapter's endpoint: receives <c>POST {"to", "text", "sender"}</c> and answers 2xx when accepted.</summary>
    public Uri? ProviderUrl { get; set; }

    /// <summary>Sent as <c>Authorization: Bearer ...</c> when set.</summary>
    public string? ApiKey { get; set; }

    public string Sender { get; set; } = "Clearflow";
}

/// <summary>
/// SMS or push through a pluggable HTTP provider: a small adapter service in front of any SMS gateway or
/// push service speaks this one JSON shape, so Clearflow needs no code per provider.
/// </summary>
public sealed class HttpTextMessageSender(IHttpClientFactory httpClients, IOptions<TextMessageOptions> options) : ITextMessageSender
{
    public bool IsConfigured => options.Value.ProviderUrl is not null;

    public async Task<string?> SendAsync(string to, string text, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.ProviderUrl)
        {
            Content = JsonContent.Create(new { to, text, sender = settings.Sender }),
        };
        if (!string.IsNullOrEmpty(settings.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);
        }
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            using var response = await httpClients.CreateClient(nameof(HttpTextMessageSender)).SendAsync(request, limit.Token);
            return response.IsSuccessStatusCode ? null : $"provider answered {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "provider gave no answer within 10 s";
        }
        catch (HttpRequestException ex)
        {
            return "provider unreachable: " + ex.Message;
        }
    }
}
