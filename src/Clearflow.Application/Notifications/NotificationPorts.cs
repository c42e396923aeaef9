namespace Clearflow.Application.Notifications;

/// <summary>Settings of notification delivery (section <c>Clearflow:Notifications</c>).</summary>
public sealed class NotificationOptions
{
    /// <summary>
    /// Allow webhook URLs on private, loopback and link-local addresses. Off by default (SSRF); tests and
    /// all-internal deployments turn it on.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Time limit of one webhook delivery.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Posts a signed event to a merchant endpoint (Standard Webhooks), refusing internal addresses unless allowed.</summary>
public interface IWebhookSender
{
    /// <param name="secrets">every secret that signs now (two during a rotation)</param>
    Task<(int? StatusCode, string? ResponseExcerpt, string? Error)> SendAsync(Uri endpoint, IReadOnlyList<string> secrets, string webhookId, string payloadJson,
        CancellationToken cancellationToken);
}

/// <summary>Sends an email (SMTP). <see cref="IsConfigured"/> is false when no SMTP server is set: email is then not offered.</summary>
public interface IEmailSender
{
    bool IsConfigured { get; }

    /// <exception cref="EmailNotSentException">the server refused or could not be reached.</exception>
    Task SendAsync(string to, string subject, string text, string html, CancellationToken cancellationToken);
}

public sealed class EmailNotSentException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Resolves a host name, so URLs can be checked against the address policy when saved.</summary>
public interface IHostResolver
{
    Task<IReadOnlyList<System.Net.IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>
/// Sends a text message (SMS or push) through a pluggable HTTP provider. <see cref="IsConfigured"/> is false
/// when no provider is set: the channel is then not offered.
/// </summary>
public interface ITextMessageSender
{
    bool IsConfigured { get; }

    /// <returns>null when the provider accepted it, otherwise why not.</returns>
    Task<string?> SendAsync(string to, string text, CancellationToken cancellationToken);
}
