using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Money;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Orders.ListOrders;

/// <summary>
/// Reads the filters of an order list or export from query parameters, the same way for the API, the
/// customer view, the CSV export and the dashboard. Unknown parameters are refused rather than ignored:
/// a misspelt filter that silently returns everything is how wrong reports get made.
/// </summary>
public static class OrderFilter
{
    public const int DefaultLimit = 25;
    public const int MaxLimit = 100;

    public static readonly IReadOnlyList<string> FilterNames =
        ["status", "created_from", "created_to", "customer_id", "amount_min", "amount_max", "currency", "gateway", "q"];

    public sealed record Parsed(OrderQuery Query, OrderCursor? Cursor, int Limit);

    /// <param name="parameters">Query parameters; blank values count as absent.</param>
    /// <param name="allowPaging">Lists accept <c>limit</c> and <c>cursor</c>; exports do not.</param>
    /// <param name="fixedCustomerId">Set for customer histories: the customer comes from the path or the token, not the query.</param>
    public static Result<Parsed> Parse(string merchantId, IReadOnlyDictionary<string, string> parameters, bool allowPaging, string? fixedCustomerId = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var errors = new Dictionary<string, string[]>();
        var allowed = FilterNames.Where(n => fixedCustomerId is null || n != "customer_id").Concat(allowPaging ? ["limit", "cursor"] : Array.Empty<string>()).ToHashSet();
        foreach (var name in parameters.Keys.Where(k => !allowed.Contains(k)))
        {
            errors[name] = [$"Unknown parameter. Accepted: {string.Join(", ", allowed)}."];
        }
        string? Value(string name) => parameters.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var statuses = new List<OrderStatus>();
        foreach (var word in (Value("status") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (OrderStatusNames.TryFromWire(word, out var status))
            {
                statuses.Add(status);
            }
            else
            {
                errors["status"] = [$"'{word}' is not a status. Statuses: {string.Join(", ", Enum.GetValues<OrderStatus>().Select(s => s.ToWire()))}."];
            }
        }

        var from = Instant(Value("created_from"), "created_from", endOfDay: false, errors);
        var to = Instant(Value("created_to"), "created_to", endOfDay: true, errors);
        if (from is not null && to is not null && from >= to)
        {
            errors["created_to"] = ["Must be after created_from."];
        }
        var min = Amount(Value("amount_min"), "amount_min", errors);
        var max = Amount(Value("amount_max"), "amount_max", errors);
        if (min is not null && max is not null && min > max)
        {
            errors["amount_max"] = ["Must not be below amount_min."];
        }
        var currency = Value("currency")?.ToUpperInvariant();
        if (currency is not null && !Currency.TryParse(currency, out _))
        {
            errors["currency"] = [$"'{currency}' is not an ISO 4217 currency code."];
        }
        var text = Value("q");
        if (text is { Length: > 100 })
        {
            errors["q"] = ["At most 100 characters."];
        }
        var customerId = fixedCustomerId ?? Value("customer_id");
        if (customerId is { Length: > 64 })
        {
            errors["customer_id"] = ["At most 64 characters."];
        }

        var limit = DefaultLimit;
        if (Value("limit") is { } limitText && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"A whole number from 1 to {MaxLimit}."];
        }
        OrderCursor? cursor = null;
        if (Value("cursor") is { } cursorText && !TryDecodeCursor(cursorText, out cursor))
        {
            errors["cursor"] = ["Not a cursor from this API: pass next_cursor from the previous page unchanged."];
        }

        if (errors.Count > 0)
        {
            return new Problem(400, "invalid-filter", "The filters are not valid.", "One or more query parameters are invalid; see errors.", errors);
        }
        var query = new OrderQuery(merchantId)
        {
            Statuses = statuses.Distinct().ToArray(),
            CreatedFrom = from,
            CreatedTo = to,
            CustomerId = customerId,
            AmountMin = min,
            AmountMax = max,
            Currency = currency,
            Gateway = Value("gateway"),
            Text = text,
        };
        return new Parsed(query, cursor, limit);
    }

    public static string EncodeCursor(OrderCursor cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var raw = cursor.CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + ":" + cursor.Id;
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(raw));
    }

    public static bool TryDecodeCursor(string text, out OrderCursor? cursor)
    {
        cursor = null;
        try
        {
            var raw = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text));
            var colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == raw.Length - 1
                || !long.TryParse(raw.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                return false;
            }
            cursor = new OrderCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), raw[(colon + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>A date (whole UTC day: from its start, or to the end of it) or an ISO 8601 instant with an offset.</summary>
    private static DateTimeOffset? Instant(string? text, string name, bool endOfDay, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) && date < DateOnly.MaxValue)
        {
            var start = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return endOfDay ? start.AddDays(1) : start;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            && (text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
        {
            return instant;
        }
        errors[name] = ["A date (2026-11-24) or an instant with its offset (2026-11-24T10:00:00Z)."];
        return null;
    }

    private static long? Amount(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) && amount <= CreateOrder.CreateOrderRequest.MaxAmount)
        {
            return amount;
        }
        errors[name] = ["A whole number of minor units (49900 for 499.00), no decimals."];
        return null;
    }
}
