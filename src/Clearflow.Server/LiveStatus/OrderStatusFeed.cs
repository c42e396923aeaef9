using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Clearflow.Server.LiveStatus;

/// <summary>
/// In-process fan-out of "this order's status changed" to the live streams watching it. Fed by the store
/// after each commit on this node, and (PostgreSQL) by LISTEN for changes committed on other nodes.
/// A signal carries no data: the stream reads the order again, so a lost or doubled signal is harmless.
/// </summary>
public sealed class OrderStatusFeed
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<bool>, byte>> _watchers = new(StringComparer.Ordinal);

    public Subscription Subscribe(string orderId)
    {
        var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        _watchers.GetOrAdd(orderId, _ => new()).TryAdd(channel, 0);
        return new Subscription(channel.Reader, () =>
        {
            if (_watchers.TryGetValue(orderId, out var set))
            {
                set.TryRemove(channel, out _);
                if (set.IsEmpty)
                {
                    _watchers.TryRemove(new KeyValuePair<string, ConcurrentDictionary<Channel<bool>, byte>>(orderId, set));
                }
            }
        });
    }

    public void Publish(string orderId)
    {
        if (_watchers.TryGetValue(orderId, out var set))
        {
            foreach (var channel in set.Keys)
            {
                channel.Writer.TryWrite(true);
            }
        }
    }

    public sealed class Subscription(ChannelReader<bool> changes, Action unsubscribe) : IDisposable
    {
        public ChannelReader<bool> Changes { get; } = changes;

        public void Dispose() => unsubscribe();
    }
}
