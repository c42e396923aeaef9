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
    /// <summary>
    /// After this many orders remembered, the copies start again: orders never checked out go, and the few waiting for their
    /// checkout at that moment are read then. Far more than wait at once, so memory stays bounded without tracking ages.
    /// </summary>
    private const int Limit = 10_000;

    private ConcurrentDictionary<string, SandboxOrderRecord> _byId = new(StringComparer.Ordinal);
    private int _added;

    public void Remember(SandboxOrderRecord order)
    {
        if (order.Status != "created" || order.PaymentId is not null)
        {
            return;
        }
        if (Interlocked.Increment(ref _added) > Limit)
        {
            // A fresh dictionary, so what is dropped is dropped whole. A copy remembered into the old one meanwhile is lost,
            // which costs its checkout a read.
            Interlocked.Exchange(ref _byId, new ConcurrentDictionary<string, SandboxOrderRecord>(StringComparer.Ordinal));
            Interlocked.Exchange(ref _added, 1);
        }
        Volatile.Read(ref _byId)[order.Id] = order;
    }

    /// <summary>The order as created, once: a second checkout of it reads it.</summary>
    public SandboxOrderRecord? Take(string id) => Volatile.Read(ref _byId).TryRemove(id, out var order) ? order : null;
}
