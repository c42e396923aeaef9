using System.Net;
using System.Net.Sockets;
using Clearflow.Application.Notifications;
using Clearflow.Domain.Notifications;

namespace Clearflow.Server.Notifications;

/// <summary>
/// Connections to merchant-supplied URLs check the address actually connected to, not only the one seen
/// when the URL was saved: a host name that later resolves to an internal address (DNS rebinding) is refused too.
/// </summary>
public static class GuardedConnections
{
    public static SocketsHttpHandler Handler(NotificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
                    ? [literal]
                    : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
                var allowed = options.AllowPrivateTargets ? addresses : addresses.Where(NetworkAddressPolicy.IsPublic).ToArray();
                if (allowed.Length == 0)
                {
                    throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to internal addresses; webhooks go to public addresses.");
                }
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(allowed[0], context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
    }
}

public sealed class DnsHostResolver : IHostResolver
{
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
        await Dns.GetHostAddressesAsync(host, cancellationToken);
}
