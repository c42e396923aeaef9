using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Orders.ListOrders;

/// <summary>
/// <c>GET /v1/orders</c>, <c>GET /v1/customers/{id}/orders</c> and the customer's own history: a filtered
/// page of orders, newest first, with a cursor for the next page.
/// </summary>
public sealed class ListOrders(IOrderStore store)
{
    /// <summary>An order in a list, as its merchant sees it.</summary>
    public sealed record OrderSummary(string Id, string Object, string Status, bool IsFinal, long Amount, long AmountPaid, long AmountRefunded, string Currency,
        string Receipt, string Gateway, string? GatewayReference, string CustomerId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static OrderSummary From(OrderListRow row)
        {
            ArgumentNullException.ThrowIfNull(row);
            var o = row.Order;
            return new(o.Id, "order", o.Status.ToWire(), OrderStateMachine.IsFinal(o.Status), o.Amount, o.AmountPaid, o.AmountRefunded, o.Currency,
                o.Receipt, o.Gateway, row.GatewayReference, o.Customer.Id, o.CreatedAt, o.UpdatedAt);
        }
    }

    /// <summary>An order in the customer's own history: what the customer needs, nothing about the merchant's setup.</summary>
    public sealed record CustomerOrderSummary(string Id, string Object, string Status, bool IsFinal, long Amount, long AmountRefunded, string Currency,
        string Receipt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record Page<T>(string Object, IReadOnlyList<T> Data, bool HasMore, string? NextCursor);

    public async Task<Result<Page<OrderSummary>>> HandleAsync(string merchantId, IReadOnlyDictionary<string, string> parameters, string? customerId,
        CancellationToken cancellationToken)
    {
        var parsed = OrderFilter.Parse(merchantId, parameters, allowPaging: true, customerId);
        if (!parsed.IsSuccess)
        {
            return parsed.Error!;
        }
        var (rows, hasMore, next) = await FetchAsync(parsed.Value!, cancellationToken);
        return new Page<OrderSummary>("list", [.. rows.Select(OrderSummary.From)], hasMore, next);
    }

    /// <summary>The customer's own orders, for a holder of a customer token.</summary>
    public async Task<Result<Page<CustomerOrderSummary>>> HandleForCustomerAsync(string merchantId, string customerId,
        IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        var parsed = OrderFilter.Parse(merchantId, parameters, allowPaging: true, customerId);
        if (!parsed.IsSuccess)
        {
            return parsed.Error!;
        }
        var (rows, hasMore, next) = await FetchAsync(parsed.Value!, cancellationToken);
        return new Page<CustomerOrderSummary>("list", [.. rows.Select(r => new CustomerOrderSummary(r.Order.Id, "order", r.Order.Status.ToWire(),
            OrderStateMachine.IsFinal(r.Order.Status), r.Order.Amount, r.Order.AmountRefunded, r.Order.Currency, r.Order.Receipt,
            r.Order.CreatedAt, r.Order.UpdatedAt))], hasMore, next);
    }

    private async Task<(IReadOnlyList<OrderListRow> Rows, bool HasMore, string? Next)> FetchAsync(OrderFilter.Parsed parsed, CancellationToken cancellationToken)
    {
        // One more than asked tells whether another page exists without a count query.
        var rows = await store.SearchOrdersAsync(parsed.Query, parsed.Cursor, parsed.Limit + 1, cancellationToken);
        var hasMore = rows.Count > parsed.Limit;
        var page = hasMore ? rows.Take(parsed.Limit).ToArray() : rows;
        var next = hasMore ? OrderFilter.EncodeCursor(new OrderCursor(page[^1].Order.CreatedAt, page[^1].Order.Id)) : null;
        return (page, hasMore, next);
    }
}
