using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string SandboxOrderColumns =
        "id, idempotency_key, merchant_reference, amount, currency, return_url, notify_url, status, payment_id, reported_amount, created_at, updated_at, " +
        "status_queries, last_query_failed, status_failure_mode";

    private const string SandboxWebhookColumns =
        "delivery_id, event_id, order_id, sequence, event_type, body, sign_correctly, notify_url, available_at, attempts, last_status_code, delivered_at";

    private sealed class SandboxOrderRow
    {
        public string Id { get; set; } = "";
        public string IdempotencyKey { get; set; } = "";
        public string MerchantReference { get; set; } = "";
        public long Amount { get; set; }
        public string Currency { get; set; } = "";
        public string ReturnUrl { get; set; } = "";
        public string NotifyUrl { get; set; } = "";
        public string Status { get; set; } = "";
        public string? PaymentId { get; set; }
        public long? ReportedAmount { get; set; }
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
        public long StatusQueries { get; set; }
        public long LastQueryFailed { get; set; }
        public string? StatusFailureMode { get; set; }

        public SandboxOrderRecord ToRecord() => new(Id, IdempotencyKey, MerchantReference, Amount, Currency, ReturnUrl, NotifyUrl, Status, PaymentId,
            ReportedAmount, At(CreatedAt), At(UpdatedAt)) { StatusQueries = (int)StatusQueries };
    }

    private sealed class SandboxWebhookRow
    {
        public string DeliveryId { get; set; } = "";
        public string EventId { get; set; } = "";
        public string OrderId { get; set; } = "";
        public long Sequence { get; set; }
        public string EventType { get; set; } = "";
        public byte[] Body { get; set; } = [];
        public long SignCorrectly { get; set; }
        public string NotifyUrl { get; set; } = "";
        public long AvailableAt { get; set; }
        public long Attempts { get; set; }
        public long? LastStatusCode { get; set; }
        public long? DeliveredAt { get; set; }

        public SandboxWebhookRecord ToRecord() => new(DeliveryId, EventId, OrderId, (int)Sequence, EventType, Body, SignCorrectly != 0, NotifyUrl,
            At(AvailableAt), (int)Attempts, (int?)LastStatusCode, At(DeliveredAt));
    }

    public async Task<SandboxOrderRecord> InsertSandboxOrderAsync(SandboxOrderRecord order, CancellationToken cancellationToken)
    {
        // New key: the inserted row comes back in the same statement. Repeated key: the first order with it.
        var inserted = await WriteOneAsync((connection, transaction) => connection.QuerySingleOrDefaultAsync<SandboxOrderRow>(Command(
            $"""
            INSERT INTO sandbox_orders ({SandboxOrderColumns})
            VALUES (@Id, @IdempotencyKey, @MerchantReference, @Amount, @Currency, @ReturnUrl, @NotifyUrl, @Status, NULL, NULL, @createdAt, @createdAt, 0, 0, NULL)
            ON CONFLICT DO NOTHING
            RETURNING {SandboxOrderColumns}
            """,
            new { order.Id, order.IdempotencyKey, order.MerchantReference, order.Amount, order.Currency, order.ReturnUrl, order.NotifyUrl, order.Status,
                createdAt = Ms(order.CreatedAt) }, transaction, cancellationToken)), cancellationToken);
        return (inserted ?? await ReadAsync(connection => connection.QuerySingleAsync<SandboxOrderRow>(Command(
            $"SELECT {SandboxOrderColumns} FROM sandbox_orders WHERE idempotency_key = @IdempotencyKey", new { order.IdempotencyKey }, null, cancellationToken)),
            cancellationToken)).ToRecord();
    }

    public Task<SandboxOrderRecord?> GetSandboxOrderAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<SandboxOrderRow>(Command(
            $"SELECT {SandboxOrderColumns} FROM sandbox_orders WHERE id = @id", new { id }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<SandboxStatusQuery?> QuerySandboxStatusAsync(string id, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // Right-hand sides read the row as it was before this statement, in both dialects.
            var row = await connection.QuerySingleOrDefaultAsync<SandboxOrderRow>(Command(
                $"""
                UPDATE sandbox_orders SET
                    status_queries = status_queries + 1,
                    last_query_failed = CASE WHEN status_failures_left > 0 THEN 1 ELSE 0 END,
                    status_failures_left = CASE WHEN status_failures_left > 0 THEN status_failures_left - 1 ELSE 0 END,
                    status = CASE WHEN status_failures_left = 0 AND status = 'pending' AND pending_checks_left = 1 AND eventual_status IS NOT NULL
                                  THEN eventual_status ELSE status END,
                    pending_checks_left = CASE WHEN status_failures_left = 0 AND status = 'pending' AND pending_checks_left > 0
                                               THEN pending_checks_left - 1 ELSE pending_checks_left END,
                    updated_at = @now
                WHERE id = @id
                RETURNING {SandboxOrderColumns}
                """, new { id, now = Ms(now) }, transaction, cancellationToken));
            return row is null ? null : new SandboxStatusQuery(row.ToRecord(), row.LastQueryFailed == 1 ? row.StatusFailureMode ?? "error" : null);
        }, cancellationToken);

    public Task<bool> SetSandboxStatusFailuresAsync(string id, int statusFailures, string failureMode, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            "UPDATE sandbox_orders SET status_failures_left = @statusFailures, status_failure_mode = @failureMode WHERE id = @id",
            new { id, statusFailures, failureMode }, transaction, cancellationToken)) == 1, cancellationToken);

    public Task<bool> CompleteSandboxCheckoutAsync(SandboxCompletion completion, IReadOnlyList<SandboxWebhookRecord> webhooks, CancellationToken cancellationToken) =>
        // A checkout is completed once; a pending one may still be completed with a final answer. Its webhooks only with it.
        WriteIfAsync(new Statement(
                """
                UPDATE sandbox_orders SET status = @Status, payment_id = COALESCE(payment_id, @PaymentId), reported_amount = @ReportedAmount, updated_at = @at,
                    pending_checks_left = @PendingChecks, eventual_status = @EventualStatus
                WHERE id = @OrderId AND status IN ('created', 'pending') AND (@onlyIfNew = 0 OR status = 'created')
                """,
                new { completion.Status, completion.PaymentId, completion.ReportedAmount, at = Ms(completion.At), completion.OrderId,
                    completion.PendingChecks, completion.EventualStatus, onlyIfNew = completion.OnlyIfNew ? 1 : 0 }),
            [.. webhooks.Select(webhook => new Statement(
                $"""
                INSERT INTO sandbox_webhooks ({SandboxWebhookColumns})
                VALUES (@DeliveryId, @EventId, @OrderId, @Sequence, @EventType, @Body, @signCorrectly, @NotifyUrl, @availableAt, @Attempts, NULL, NULL)
                """,
                new { webhook.DeliveryId, webhook.EventId, webhook.OrderId, webhook.Sequence, webhook.EventType, webhook.Body,
                    signCorrectly = webhook.SignCorrectly ? 1 : 0, webhook.NotifyUrl, availableAt = Ms(webhook.AvailableAt), webhook.Attempts }))],
            [], cancellationToken);

    // One statement, not cancelled half-way (as the other claims). The rows come back in no particular order: each
    // payment's events are put back in their sequence, the order the sender keeps within a payment.
    public Task<IReadOnlyList<SandboxWebhookRecord>> ClaimDueSandboxWebhooksAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => (IReadOnlyList<SandboxWebhookRecord>)[.. (await connection.QueryAsync<SandboxWebhookRow>(Command(
                ClaimDueSql("sandbox_webhooks", "available_at", "delivered_at IS NULL", ", attempts = attempts + 1", SandboxWebhookColumns,
                    key: "delivery_id", orderBy: "available_at, sequence"),
                new { now = Ms(now), leaseEnd = Ms(now + lease), limit }, transaction, CancellationToken.None)))
            .Select(r => r.ToRecord()).OrderBy(w => w.Sequence)], cancellationToken);

    public Task RecordSandboxDeliveriesAsync(IReadOnlyList<SandboxDelivery> deliveries, CancellationToken cancellationToken)
    {
        var all = new StatementBatch();
        foreach (var d in deliveries)
        {
            all.Add(new Statement(
                """
                UPDATE sandbox_webhooks SET last_status_code = @StatusCode, delivered_at = @deliveredAt, available_at = COALESCE(@retryAt, available_at)
                WHERE delivery_id = @DeliveryId AND attempts = @Attempt
                """,
                new { d.DeliveryId, d.Attempt, d.StatusCode, deliveredAt = Ms(d.DeliveredAt), retryAt = Ms(d.RetryAt) }));
        }
        return deliveries.Count == 0 ? Task.CompletedTask : WriteBatchAsync(all, cancellationToken);
    }

    public Task<IReadOnlyList<SandboxWebhookRecord>> ListSandboxWebhooksAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<SandboxWebhookRecord>)[.. (await connection.QueryAsync<SandboxWebhookRow>(Command(
            $"SELECT {SandboxWebhookColumns} FROM sandbox_webhooks WHERE order_id = @orderId ORDER BY sequence", new { orderId }, null, cancellationToken))).Select(r => r.ToRecord())],
            cancellationToken);
}
