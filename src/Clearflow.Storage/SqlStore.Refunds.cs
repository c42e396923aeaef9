using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string RefundColumns =
        "id, order_id, merchant_id, amount, currency, status, kind, reason, idempotency_key, gateway_reference, failure_reason, next_check_at, created_at, updated_at, check_count";

    private sealed class RefundRow
    {
        public string Id { get; set; } = "";
        public string OrderId { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public long Amount { get; set; }
        public string Currency { get; set; } = "";
        public string Status { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? Reason { get; set; }
        public string IdempotencyKey { get; set; } = "";
        public string? GatewayReference { get; set; }
        public string? FailureReason { get; set; }
        public long? NextCheckAt { get; set; }
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
        public long CheckCount { get; set; }

        public RefundRecord ToRecord() => new(Id, OrderId, MerchantId, Amount, Currency, Status, Kind, Reason, IdempotencyKey, GatewayReference, FailureReason,
            At(NextCheckAt), At(CreatedAt), At(UpdatedAt)) { CheckCount = (int)CheckCount };
    }

    private sealed class RefundableRow
    {
        public string Status { get; set; } = "";
        public long AmountPaid { get; set; }
        public long AmountRefundReserved { get; set; }
    }

    /// <summary>Thrown inside the reservation transaction to undo it when a concurrent request with the same key won.</summary>
    private sealed class RefundKeyTakenException : Exception;

    public async Task<RefundReservation> ReserveRefundAsync(RefundRecord refund, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync<RefundReservation>(async (connection, transaction) =>
            {
                var existing = await connection.QuerySingleOrDefaultAsync<RefundRow>(Command(
                    $"SELECT {RefundColumns} FROM refunds WHERE order_id = @OrderId AND idempotency_key = @IdempotencyKey",
                    new { refund.OrderId, refund.IdempotencyKey }, transaction, cancellationToken));
                if (existing is not null)
                {
                    return new RefundReservation.Duplicate(existing.ToRecord());
                }
                // The guard is in the update: of many concurrent refunds only those that still fit succeed.
                var reserved = await connection.ExecuteAsync(Command(
                    """
                    UPDATE orders SET amount_refund_reserved = amount_refund_reserved + @Amount, updated_at = @at
                    WHERE id = @OrderId AND status IN ('succeeded', 'partially_refunded') AND amount_paid - amount_refund_reserved >= @Amount
                    """, new { refund.Amount, refund.OrderId, at = Ms(refund.CreatedAt) }, transaction, cancellationToken));
                if (reserved == 0)
                {
                    var order = await connection.QuerySingleAsync<RefundableRow>(Command(
                        "SELECT status, amount_paid, amount_refund_reserved FROM orders WHERE id = @OrderId", new { refund.OrderId }, transaction, cancellationToken));
                    return order.Status is "succeeded" or "partially_refunded"
                        ? new RefundReservation.ExceedsRefundable(order.AmountPaid - order.AmountRefundReserved)
                        : new RefundReservation.NotRefundable(order.Status);
                }
                var inserted = await connection.ExecuteAsync(Command(
                    $"""
                    INSERT INTO refunds ({RefundColumns})
                    VALUES (@Id, @OrderId, @MerchantId, @Amount, @Currency, @Status, @Kind, @Reason, @IdempotencyKey, NULL, NULL, NULL, @createdAt, @createdAt, 0)
                    ON CONFLICT DO NOTHING
                    """, new { refund.Id, refund.OrderId, refund.MerchantId, refund.Amount, refund.Currency, refund.Status, refund.Kind, refund.Reason,
                        refund.IdempotencyKey, createdAt = Ms(refund.CreatedAt) }, transaction, cancellationToken));
                if (inserted == 0)
                {
                    throw new RefundKeyTakenException();
                }
                await InsertTimelineAsync(connection, transaction, refund.OrderId, entry, cancellationToken);
                foreach (var message in notifications)
                {
                    await InsertOutboxAsync(connection, transaction, message, cancellationToken);
                }
                return new RefundReservation.Created(refund);
            }, cancellationToken);
        }
        catch (RefundKeyTakenException)
        {
            var winner = (await ListRefundsAsync(refund.OrderId, cancellationToken)).Single(r => r.IdempotencyKey == refund.IdempotencyKey);
            return new RefundReservation.Duplicate(winner);
        }
    }

    public Task<RefundRecord?> GetRefundAsync(string refundId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<RefundRow>(Command(
            $"SELECT {RefundColumns} FROM refunds WHERE id = @refundId", new { refundId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<RefundRecord>> ListRefundsAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<RefundRecord>)[.. (await connection.QueryAsync<RefundRow>(Command(
            $"SELECT {RefundColumns} FROM refunds WHERE order_id = @orderId ORDER BY created_at, id", new { orderId }, null, cancellationToken))).Select(r => r.ToRecord())],
            cancellationToken);

    public Task SetRefundGatewayReferenceAsync(string refundId, string gatewayReference, DateTimeOffset? nextCheckAt, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            """
            UPDATE refunds SET gateway_reference = @gatewayReference, updated_at = @at,
                next_check_at = CASE WHEN status = 'pending' THEN @nextCheckAt ELSE NULL END
            WHERE id = @refundId
            """, new { refundId, gatewayReference, nextCheckAt = Ms(nextCheckAt), at = Ms(at) }, transaction, cancellationToken)), cancellationToken);

    public async Task<bool> CompleteRefundAsync(RefundCompletion completion, CancellationToken cancellationToken)
    {
        string? changedOrder = null;
        var completed = await WriteAsync(async (connection, transaction) =>
        {
            var refund = await connection.QuerySingleOrDefaultAsync<RefundRow>(Command(
                $"""
                UPDATE refunds SET status = @status, failure_reason = @FailureReason, next_check_at = NULL, updated_at = @at
                WHERE id = @RefundId AND status = 'pending'
                RETURNING {RefundColumns}
                """, new { status = completion.Succeeded ? "succeeded" : "failed", completion.FailureReason, at = Ms(completion.At), completion.RefundId },
                transaction, cancellationToken));
            if (refund is null)
            {
                return false;
            }
            if (completion.Succeeded)
            {
                var status = await connection.QuerySingleOrDefaultAsync<string>(Command(
                    """
                    UPDATE orders SET amount_refunded = amount_refunded + @Amount, updated_at = @at,
                        status = CASE WHEN amount_refunded + @Amount >= amount_paid THEN 'refunded' ELSE 'partially_refunded' END,
                        status_reason = @reason
                    WHERE id = @OrderId AND status IN ('succeeded', 'partially_refunded')
                    RETURNING status
                    """, new { refund.Amount, refund.OrderId, at = Ms(completion.At), reason = $"refund {refund.Id} of {refund.Amount} {refund.Currency}" },
                    transaction, cancellationToken));
                if (status is not null)
                {
                    await InsertTimelineAsync(connection, transaction, refund.OrderId, new TimelineEntry(completion.At, "status.changed",
                        $"-> {status}: refund {refund.Id} of {refund.Amount} {refund.Currency} (minor units) succeeded."), cancellationToken);
                    await AnnounceStatusChangeAsync(connection, transaction, refund.OrderId, cancellationToken);
                    changedOrder = refund.OrderId;
                    foreach (var message in completion.NotificationsByOrderStatus.GetValueOrDefault(status) ?? [])
                    {
                        await InsertOutboxAsync(connection, transaction, message, cancellationToken);
                    }
                }
                if (completion.Ledger is { } ledger)
                {
                    await InsertLedgerAsync(connection, transaction, ledger, completion.At, cancellationToken);
                }
            }
            else
            {
                await connection.ExecuteAsync(Command(
                    "UPDATE orders SET amount_refund_reserved = amount_refund_reserved - @Amount, updated_at = @at WHERE id = @OrderId",
                    new { refund.Amount, refund.OrderId, at = Ms(completion.At) }, transaction, cancellationToken));
            }
            await InsertTimelineAsync(connection, transaction, refund.OrderId, completion.Entry, cancellationToken);
            foreach (var message in completion.Notifications)
            {
                await InsertOutboxAsync(connection, transaction, message, cancellationToken);
            }
            return true;
        }, cancellationToken);
        if (changedOrder is not null)
        {
            RaiseOrderStatusChanged(changedOrder);
        }
        return completed;
    }

    // The claim's command is not cancelled half-way: without an explicit transaction a claim the server ran but the
    // caller never read would stay committed, spending an attempt and a lease on work nobody does.
    public Task<IReadOnlyList<string>> ClaimDueRefundChecksAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => (IReadOnlyList<string>)[.. await connection.QueryAsync<string>(Command(
            ClaimDueSql("refunds", "next_check_at", "next_check_at IS NOT NULL", "", "id"),
            new { now = Ms(now), leaseEnd = Ms(leaseEnd), limit }, transaction, CancellationToken.None))], cancellationToken);

    public Task RecordRefundCheckAsync(string refundId, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            """
            UPDATE refunds SET check_count = check_count + 1,
                next_check_at = CASE WHEN status = 'pending' THEN @nextCheckAt ELSE NULL END
            WHERE id = @refundId
            """, new { refundId, nextCheckAt = Ms(nextCheckAt) }, transaction, cancellationToken)), cancellationToken);
}
