using System.Collections.Concurrent;
using Clearflow.Application.Abstractions;

namespace Clearflow.Server.Sandbox;

/// <summary>
/// The sandbox orders this process created and nobody has checked out yet, as they were created. A checkout takes its
/// order from here instead of reading it, and completes it only if it is still unpaid and unanswered
/// (<c>status = 'created'</c>), which is the state this copy describes: what a checkout uses of an order (amount,
/// currency, references, URLs) never changes, and its payment id is set only by a completion. If the guard finds the
/// order moved on (completed on another node), the checkout reads it and goes the usual way. So the copy saves the
/// benchmark's gateway a round trip per payment and is never decided on unchecked.
/// </summary>
public sealed class NewSandboxOrders
{
    /// <summary>Far more than are checked out at once; orders never checked out are dropped with the rest when it is reached.</summary>
    private const int Limit = 10_000;

    private readonly ConcurrentDictionary<string, SandboxOrderRecord> _byId = new(StringComparer.Ordinal);
    private int _count;

    public void Remember(SandboxOrderRecord order)
    {
        if (order.Status != "created" || order.PaymentId is not null)
        {
            return;
        }
        if (Interlocked.Increment(ref _count) > Limit)
        {
            // Start again rather than track ages (the count is approximate under races; it only bounds memory).
            _byId.Clear();
            Interlocked.Exchange(ref _count, 1);
        }
        _byId[order.Id] = order;
    }

    /// <summary>The order as created, once: a second checkout of it reads it.</summary>
    public SandboxOrderRecord? Take(string id)
    {
        if (!_byId.TryRemove(id, out var order))
        {
            return null;
        }
        Interlocked.Decrement(ref _count);
        return order;
    }
}
