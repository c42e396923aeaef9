using Clearflow.Application.Abstractions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Hosting;

/// <summary>The configured public address, or else the first address Kestrel actually listens on (port 0 included).</summary>
public sealed class PublicUrls(IOptions<ClearflowOptions> options, IServer server) : IPublicUrls
{
    private Uri? _resolved;

    public Uri BaseUri => _resolved ??= Resolve();

    private Uri Resolve()
    {
        if (options.Value.PublicBaseUrl is { } configured)
        {
            return configured.AbsoluteUri.EndsWith('/') ? configured : new Uri(configured.AbsoluteUri + "/");
        }
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The server is not listening yet; set Clearflow:PublicBaseUrl.");
        var builder = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (builder.Host is "0.0.0.0" or "[::]" or "::")
        {
            builder.Host = "localhost";
        }
        builder.Path = "/";
        return builder.Uri;
    }
}
