using System.Net;
using Clearflow.Domain.Notifications;
using Microsoft.Extensions.Options;

namespace Clearflow.Application.Notifications;

/// <summary>Refuses webhook URLs Clearflow must not call: not http(s), or pointing at an internal address (SSRF).</summary>
public sealed class WebhookUrlCheck(IHostResolver resolver, IOptions<NotificationOptions> options)
{
    /// <returns>Why the URL is refused, or null when it is fine.</returns>
    public async Task<string?> ProblemAsync(string? url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || url!.Length > 2000)
        {
            return "Must be an absolute https (or http) URL of at most 2000 characters.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "Must not carry credentials in the URL; authenticate the signature instead.";
        }
        if (options.Value.AllowPrivateTargets)
        {
            return null;
        }
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await resolver.ResolveAsync(uri.IdnHost, cancellationToken);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return $"The host '{uri.Host}' does not resolve.";
        }
        if (addresses.Count == 0)
        {
            return $"The host '{uri.Host}' does not resolve.";
        }
        var internalAddress = addresses.FirstOrDefault(a => !NetworkAddressPolicy.IsPublic(a));
        return internalAddress is null
            ? null
            : $"'{uri.Host}' resolves to {internalAddress}, a private, loopback or link-local address: webhooks only go to public addresses.";
    }
}
