using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;

namespace Clearflow.Application.Refunds;

/// <summary>
/// <c>POST /v1/orders/{id}/refunds</c>: full (no amount) or partial. The Idempotency-Key names the refund:
/// repeating the request returns the same refund; no amount of concurrent requests refunds more than was paid.
/// </summary>
public sealed class CreateRefund(IOrderStore orders, SubmitRefund submit)
{
    public sealed record Reply(RefundView Refund, bool Created);

    public async Task<Result<Reply>> HandleAsync(string merchantId, string orderId, string? idempotencyKey, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > 255)
        {
            return Problem.BadRequest("idempotency-key-required",
                "Send an Idempotency-Key header (up to 255 characters) so a retried refund request cannot refund twice.");
        }
        long? amount = null;
        string? currency = null, reason = null;
        if (body.Length > 0)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return Problem.BadRequest("malformed-json", "The body must be a JSON object.");
                }
                if (root.TryGetProperty("amount", out var a) && a.ValueKind != JsonValueKind.Null)
                {
                    if (a.ValueKind != JsonValueKind.Number || !a.TryGetInt64(out var value) || a.GetRawText().AsSpan().ContainsAny(".eE"))
                    {
                        return Problem.Validation("amount", "Must be an integer number of minor units (or left out for a full refund).");
                    }
                    amount = value;
                }
                currency = root.TryGetProperty("currency", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            }
            catch (JsonException ex)
            {
                return Problem.BadRequest("malformed-json", $"The body is not valid JSON: {ex.Message}");
            }
        }
        if (amount is <= 0)
        {
            return Problem.Validation("amount", "Must be greater than zero.");
        }
        if (reason is { Length: > 500 })
        {
            return Problem.Validation("reason", "At most 500 characters.");
        }

        var order = await orders.GetOrderAsync(orderId, cancellationToken);
        if (order is null || order.MerchantId != merchantId)
        {
            return Problem.NotFound("Order", orderId);
        }
        if (currency is not null && !string.Equals(currency, order.Currency, StringComparison.OrdinalIgnoreCase))
        {
            return Problem.Validation("currency", $"The order is in {order.Currency}; a refund is in the order's currency (leave it out or send {order.Currency}).");
        }
        var requested = amount ?? order.AmountPaid - order.AmountRefundReserved;
        if (requested <= 0)
        {
            return order.AmountPaid == 0
                ? Problem.Conflict("order-not-refundable", $"Order {order.Id} is {order.Status.ToString().ToLowerInvariant()}: nothing was paid.")
                : Problem.Conflict("order-not-refundable", $"Order {order.Id} has nothing left to refund.");
        }

        var result = await submit.HandleAsync(order, requested, "manual", reason, "api:" + idempotencyKey, cancellationToken);
        if (!result.IsSuccess)
        {
            return result.Error!;
        }
        var submitted = result.Value!;
        if (!submitted.Created && amount is not null && submitted.Refund.Amount != amount)
        {
            return new Problem(422, "idempotency-key-reused", "Idempotency-Key reused with a different request.",
                $"This Idempotency-Key already made refund {submitted.Refund.Id} of {submitted.Refund.Amount}. Use a new key for a new refund.");
        }
        return new Reply(RefundView.From(submitted.Refund), submitted.Created);
    }
}
