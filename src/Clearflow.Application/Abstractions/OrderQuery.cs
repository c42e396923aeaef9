using Clearflow.Domain.Orders;

namespace Clearflow.Application.Abstractions;

/// <summary>
/// A filtered view of one merchant's orders. Every filter is optional except the merchant, so no query
/// can ever reach another merchant's data. Bounds: <see cref="CreatedFrom"/> inclusive, <see cref="CreatedTo"/>
/// exclusive; amounts inclusive.
/// </summary>
public sealed record OrderQuery(string MerchantId)
{
    public IReadOnlyList<OrderStatus> Statuses { get; init; } = [];
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }
    public string? CustomerId { get; init; }
    public long? AmountMin { get; init; }
    public long? AmountMax { get; init; }
    public string? Currency { get; init; }
    public string? Gateway { get; init; }

    /// <summary>Matches an order id exactly, or a part of the receipt or of a gateway reference (case-insensitive).</summary>
    public string? Text { get; init; }
}

/// <summary>
/// Where a page ended: orders strictly older than this (created_at, then id, both descending). New orders
/// are always newer than any cursor, so pages stay stable while orders keep arriving.
/// </summary>
public sealed record OrderCursor(DateTimeOffset CreatedAt, string Id);

/// <summary>One row of an order list: what a list or export needs, without the timeline.</summary>
public sealed record OrderListRow(OrderRecord Order, string? GatewayReference);
