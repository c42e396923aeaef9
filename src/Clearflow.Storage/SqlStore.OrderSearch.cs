using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    public Task<IReadOnlyList<OrderListRow>> SearchOrdersAsync(OrderQuery query, OrderCursor? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder($"SELECT {PrefixedOrderColumns}, ")
            .Append("(SELECT a.gateway_reference FROM payment_attempts a WHERE a.order_id = o.id ORDER BY a.created_at DESC, a.id DESC LIMIT 1) AS gateway_reference ")
            .Append("FROM orders o WHERE o.merchant_id = @merchantId");
        var parameters = new DynamicParameters();
        parameters.Add("merchantId", query.MerchantId);
        if (query.Statuses.Count > 0)
        {
            // Named one by one: Dapper sends a list to PostgreSQL as one array parameter, which IN does not accept.
            sql.Append(" AND o.status IN (").AppendJoin(", ", query.Statuses.Select((_, i) => "@status" + i)).Append(')');
            for (var i = 0; i < query.Statuses.Count; i++)
            {
                parameters.Add("status" + i, query.Statuses[i].ToWire());
            }
        }
        void Where(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                parameters.Add(name, value);
            }
        }
        Where("o.created_at >= @createdFrom", "createdFrom", Ms(query.CreatedFrom));
        Where("o.created_at < @createdTo", "createdTo", Ms(query.CreatedTo));
        Where("o.customer_id = @customerId", "customerId", query.CustomerId);
        Where("o.amount >= @amountMin", "amountMin", query.AmountMin);
        Where("o.amount <= @amountMax", "amountMax", query.AmountMax);
        Where("o.currency = @currency", "currency", query.Currency);
        Where("o.gateway = @gateway", "gateway", query.Gateway);
        if (query.Text is { } text)
        {
            // LOWER + LIKE behaves the same in both dialects; the user's % and _ are matched literally.
            sql.Append(" AND (o.id = @text OR LOWER(o.receipt) LIKE @pattern ESCAPE '!'")
                .Append(" OR EXISTS (SELECT 1 FROM payment_attempts a WHERE a.order_id = o.id AND LOWER(a.gateway_reference) LIKE @pattern ESCAPE '!'))");
            parameters.Add("text", text);
            parameters.Add("pattern", "%" + EscapeLike(text.ToLowerInvariant()) + "%");
        }
        if (after is not null)
        {
            sql.Append(" AND (o.created_at < @afterAt OR (o.created_at = @afterAt AND o.id < @afterId))");
            parameters.Add("afterAt", Ms(after.CreatedAt));
            parameters.Add("afterId", after.Id);
        }
        sql.Append(" ORDER BY o.created_at DESC, o.id DESC LIMIT @limit");
        parameters.Add("limit", limit);

        return ReadAsync<IReadOnlyList<OrderListRow>>(async connection =>
        {
            var rows = await connection.QueryAsync<OrderRow, string?, OrderListRow>(
                Command(sql.ToString(), parameters, null, cancellationToken),
                (order, reference) => new OrderListRow(order.ToRecord(), reference),
                splitOn: "gateway_reference");
            return rows.AsList();
        }, cancellationToken);
    }

    private static readonly string PrefixedOrderColumns = string.Join(", ", OrderColumns.Split(',').Select(c => "o." + c.Trim()));

    private static string EscapeLike(string text) => text.Replace("!", "!!").Replace("%", "!%").Replace("_", "!_");
}
