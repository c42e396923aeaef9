using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Money;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Orders.ListOrders;

/// <summary>
/// A filtered set of orders as CSV, produced page by page so an export of millions of orders holds one
/// page in memory and starts arriving at once. Rows are read with the same keyset cursor as the list.
/// </summary>
public sealed class ExportOrders(IOrderStore store)
{
    private const int PageSize = 500;

    public const string Header = "order_id,created_at,status,amount,amount_display,amount_paid,amount_refunded,currency,receipt,customer_id,gateway,gateway_reference,updated_at";

    public static Result<OrderQuery> Validate(string merchantId, IReadOnlyDictionary<string, string> parameters)
    {
        var parsed = OrderFilter.Parse(merchantId, parameters, allowPaging: false);
        return parsed.IsSuccess ? parsed.Value!.Query : parsed.Error!;
    }

    /// <summary>The header line, then one line per order, newest first; each ends with CRLF (RFC 4180).</summary>
    public async IAsyncEnumerable<string> LinesAsync(OrderQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return Header + "\r\n";
        OrderCursor? after = null;
        while (true)
        {
            var rows = await store.SearchOrdersAsync(query, after, PageSize, cancellationToken);
            foreach (var row in rows)
            {
                yield return Line(row);
            }
            if (rows.Count < PageSize)
            {
                yield break;
            }
            after = new OrderCursor(rows[^1].Order.CreatedAt, rows[^1].Order.Id);
        }
    }

    public static string Line(OrderListRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var o = row.Order;
        var display = Currency.TryParse(o.Currency, out var currency) ? MoneyFormat.ToMajorUnits(o.Amount, currency) : "";
        var fields = new[]
        {
            o.Id, Instant(o.CreatedAt), o.Status.ToWire(), Number(o.Amount), display, Number(o.AmountPaid), Number(o.AmountRefunded), o.Currency,
            o.Receipt, o.Customer.Id, o.Gateway, row.GatewayReference ?? "", Instant(o.UpdatedAt),
        };
        var line = new StringBuilder();
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }
            line.Append(Field(fields[i]));
        }
        return line.Append("\r\n").ToString();
    }

    /// <summary>
    /// Quotes what CSV needs quoted, and defuses text a spreadsheet would run as a formula (a receipt of
    /// <c>=HYPERLINK(...)</c>): such a field is prefixed with an apostrophe.
    /// </summary>
    public static string Field(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
