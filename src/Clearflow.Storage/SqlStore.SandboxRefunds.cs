using System.Globalization;
using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private sealed class SandboxRefundRow
    {
        public string Id { get; set; } = "";
        public string OrderId { get; set; } = "";
        public string RefundKey { get; set; } = "";
        public long Amount { get; set; }
        public string Status { get; set; } = "";
        public long CreatedAt { get; set; }

        public SandboxRefundRecord ToRecord() => new(Id, OrderId, RefundKey, Amount, Status, At(CreatedAt));
    }

    private sealed class SandboxRefundableRow
    {
        public string Status { get; set; } = "";
        public long Amount { get; set; }
        public string? RefundBehaviour { get; set; }
        public long Refunded { get; set; }
    }

    public Task<bool> SetSandboxRefundBehaviourAsync(string id, string behaviour, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            "UPDATE sandbox_orders SET refund_behaviour = @behaviour WHERE id = @id", new { id, behaviour }, transaction, cancellationToken)) == 1, cancellationToken);

    public Task<(SandboxRefundRecord? Refund, string? Error)> CreateSandboxRefundAsync(string orderId, string refundKey, long amount, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync<(SandboxRefundRecord?, string?)>(async (connection, transaction) =>
        {
            var existing = await connection.QuerySingleOrDefaultAsync<SandboxRefundRow>(Command(
                "SELECT id, order_id, refund_key, amount, status, created_at FROM sandbox_refunds WHERE refund_key = @refundKey", new { refundKey }, transaction, cancellationToken));
            if (existing is not null)
            {
                return (existing.ToRecord(), null);
            }
            var order = await connection.QuerySingleOrDefaultAsync<SandboxRefundableRow>(Command(
                """
                SELECT status, COALESCE(reported_amount, amount) AS amount, refund_behaviour,
                       COALESCE((SELECT SUM(r.amount) FROM sandbox_refunds r WHERE r.order_id = sandbox_orders.id AND r.status <> 'failed'), 0) AS refunded
                FROM sandbox_orders WHERE id = @orderId
                """, new { orderId }, transaction, cancellationToken));
            if (order is null)
            {
                return (null, "no such order");
            }
            if (order.Status != "succeeded")
            {
                return (null, $"order is {order.Status}, not succeeded");
            }
            if (amount <= 0 || amount > order.Amount - order.Refunded)
            {
                return (null, $"amount {amount} exceeds the refundable {order.Amount - order.Refunded}");
            }
            // "succeeded" (default), "failed", or "pending:N:succeeded|failed"
            var parts = (order.RefundBehaviour ?? "succeeded").Split(':');
            var (status, checks, eventual) = parts[0] == "pending"
                ? ("pending", int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2])
                : (parts[0], 0, (string?)null);
            var refund = new SandboxRefundRow { Id = "sbx_rfnd_" + Guid.NewGuid().ToString("N")[..20], OrderId = orderId, RefundKey = refundKey, Amount = amount, Status = status, CreatedAt = Ms(now) };
            await connection.ExecuteAsync(Command(
                """
                INSERT INTO sandbox_refunds (id, order_id, refund_key, amount, status, checks_left, eventual, created_at)
                VALUES (@Id, @OrderId, @RefundKey, @Amount, @Status, @checks, @eventual, @CreatedAt)
                """, new { refund.Id, refund.OrderId, refund.RefundKey, refund.Amount, refund.Status, checks, eventual, refund.CreatedAt }, transaction, cancellationToken));
            return (refund.ToRecord(), null);
        }, cancellationToken);

    public Task<SandboxRefundRecord?> QuerySandboxRefundAsync(string refundId, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) => (await connection.QuerySingleOrDefaultAsync<SandboxRefundRow>(Command(
            """
            UPDATE sandbox_refunds SET
                status = CASE WHEN status = 'pending' AND checks_left <= 1 AND eventual IS NOT NULL THEN eventual ELSE status END,
                checks_left = CASE WHEN checks_left > 0 THEN checks_left - 1 ELSE 0 END
            WHERE id = @refundId
            RETURNING id, order_id, refund_key, amount, status, created_at
            """, new { refundId }, transaction, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<SandboxRefundRecord>> ListSandboxRefundsAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<SandboxRefundRecord>)[.. (await connection.QueryAsync<SandboxRefundRow>(Command(
            "SELECT id, order_id, refund_key, amount, status, created_at FROM sandbox_refunds WHERE order_id = @orderId ORDER BY created_at, id",
            new { orderId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);
}
