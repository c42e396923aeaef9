using System.Data.Common;
using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string AttemptColumns = "id, order_id, gateway, gateway_reference, status, checkout, created_at, updated_at";

    private const string OrderColumns =
        "id, merchant_id, receipt, amount, currency, amount_paid, amount_refunded, status, status_reason, gateway, customer_id, customer_email, " +
        "customer_phone, customer_name, metadata, return_url, client_secret, idempotency_key, created_at, updated_at, " +
        "next_check_at, check_count, check_failures, last_checked_at, last_gateway_status, checks_started_at, compensation_required_at, amount_refund_reserved";

    private sealed class OrderRow
    {
        public string Id { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string Receipt { get; set; } = "";
        public long Amount { get; set; }
        public string Currency { get; set; } = "";
        public long AmountPaid { get; set; }
        public long AmountRefunded { get; set; }
        public string Status { get; set; } = "";
        public string? StatusReason { get; set; }
        public string Gateway { get; set; } = "";
        public string CustomerId { get; set; } = "";
        public string? CustomerEmail { get; set; }
        public string? CustomerPhone { get; set; }
        public string? CustomerName { get; set; }
        public string Metadata { get; set; } = "";
        public string? ReturnUrl { get; set; }
        public string ClientSecret { get; set; } = "";
        public string IdempotencyKey { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
        public long? NextCheckAt { get; set; }
        public long CheckCount { get; set; }
        public long CheckFailures { get; set; }
        public long? LastCheckedAt { get; set; }
        public string? LastGatewayStatus { get; set; }
        public long? ChecksStartedAt { get; set; }
        public long? CompensationRequiredAt { get; set; }
        public long AmountRefundReserved { get; set; }

        public OrderRecord ToRecord() => new(Id, MerchantId, Receipt, Amount, Currency, AmountPaid, AmountRefunded,
            OrderStatusNames.FromWire(Status), StatusReason, Gateway, new CustomerRecord(CustomerId, CustomerEmail, CustomerPhone, CustomerName),
            Metadata, ReturnUrl, ClientSecret, IdempotencyKey, At(CreatedAt), At(UpdatedAt))
        {
            NextCheckAt = At(NextCheckAt),
            CheckCount = (int)CheckCount,
            CheckFailures = (int)CheckFailures,
            LastCheckedAt = At(LastCheckedAt),
            LastGatewayStatus = LastGatewayStatus,
            ChecksStartedAt = At(ChecksStartedAt),
            CompensationRequiredAt = At(CompensationRequiredAt),
            AmountRefundReserved = AmountRefundReserved,
        };
    }

    private sealed class AttemptRow
    {
        public string Id { get; set; } = "";
        public string OrderId { get; set; } = "";
        public string Gateway { get; set; } = "";
        public string GatewayReference { get; set; } = "";
        public string Status { get; set; } = "";
        public string Checkout { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }

        public AttemptRecord ToRecord() => new(Id, OrderId, Gateway, GatewayReference, Status, Checkout, At(CreatedAt), At(UpdatedAt));
    }

    private sealed class TimelineRow
    {
        public long At { get; set; }
        public string Kind { get; set; } = "";
        public string Message { get; set; } = "";
        public string? Data { get; set; }
    }

    public Task<bool> InsertOrderAsync(OrderRecord order, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, CancellationToken cancellationToken) =>
        InsertAllOrNothingAsync(OrderInsert(order, entry, notifications, claim: null), cancellationToken);

    public async Task<bool> InsertOrderClaimingKeyAsync(OrderRecord order, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, IdempotencyClaim claim,
        CancellationToken cancellationToken)
    {
        try
        {
            return await InsertAllOrNothingAsync(OrderInsert(order, entry, notifications, claim), cancellationToken);
        }
        catch (DbException ex) when (claim.ApiKeyHash is not null && IsNotNullViolation(ex, "idempotency_keys", "merchant_id"))
        {
            return false; // the API key is no longer valid (ADR 22); the caller reads it to say so
        }
    }

    /// <summary>
    /// One command, one round trip: the order, its first timeline entry and its notices (and the request's new
    /// Idempotency-Key, when given) stand or fall together. A receipt the merchant already used, or a key that
    /// exists, makes its insert fail, and with it the whole command.
    /// </summary>
    private static StatementBatch OrderInsert(OrderRecord order, TimelineEntry entry, IReadOnlyList<OutboxMessage> notifications, IdempotencyClaim? claim)
    {
        var all = new StatementBatch();
        if (claim is not null)
        {
            all.Add(NewKeyInsert(claim));
        }
        all.Add(new Statement(
            $"""
            INSERT INTO orders ({OrderColumns})
            VALUES (@Id, @MerchantId, @Receipt, @Amount, @Currency, @AmountPaid, @AmountRefunded, @status, @StatusReason, @Gateway, @customerId,
                    @customerEmail, @customerPhone, @customerName, @MetadataJson, @ReturnUrl, @ClientSecret, @IdempotencyKey, @createdAt, @updatedAt,
                    @nextCheckAt, 0, 0, NULL, NULL, NULL, NULL, 0)
            """,
            new
            {
                order.Id, order.MerchantId, order.Receipt, order.Amount, order.Currency, order.AmountPaid, order.AmountRefunded,
                status = order.Status.ToWire(), order.StatusReason, order.Gateway,
                customerId = order.Customer.Id, customerEmail = order.Customer.Email, customerPhone = order.Customer.Phone, customerName = order.Customer.Name,
                order.MetadataJson, order.ReturnUrl, order.ClientSecret, order.IdempotencyKey,
                createdAt = Ms(order.CreatedAt), updatedAt = Ms(order.UpdatedAt), nextCheckAt = Ms(order.NextCheckAt),
            }));
        all.Add(TimelineInsert(order.Id, entry));
        foreach (var message in notifications)
        {
            all.Add(OutboxInsert(message));
        }
        return all;
    }

    public Task<OrderRecord?> GetOrderAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<OrderRow>(Command(
            $"SELECT {OrderColumns} FROM orders WHERE id = @orderId", new { orderId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    // The merchant's columns start at m.id: Dapper splits the row at the last column named "id".
    private static readonly string OrderWithMerchantSql = $"""
        SELECT {Qualified("o", OrderColumns)}, {Qualified("m", MerchantColumns)}
        FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.id = @orderId
        """;

    public Task<(OrderRecord Order, MerchantRecord Merchant)?> GetOrderWithMerchantAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QueryAsync<OrderRow, MerchantRow, (OrderRecord Order, MerchantRecord Merchant)?>(Command(
                OrderWithMerchantSql, new { orderId }, null, cancellationToken),
            (order, merchant) => (order.ToRecord(), merchant.ToRecord()), splitOn: "id")).SingleOrDefault(), cancellationToken);

    public Task<OrderRecord?> FindOrderByReceiptAsync(string merchantId, string receipt, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<OrderRow>(Command(
            $"SELECT {OrderColumns} FROM orders WHERE merchant_id = @merchantId AND receipt = @receipt", new { merchantId, receipt }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<bool> AddAttemptAsync(AttemptRecord attempt, TimelineEntry entry, DateTimeOffset firstCheckAt, IdempotentReply? reply, CancellationToken cancellationToken)
    {
        var all = new StatementBatch();
        all.Add(new Statement(
            """
            INSERT INTO payment_attempts (id, order_id, gateway, gateway_reference, status, checkout, created_at, updated_at)
            VALUES (@Id, @OrderId, @Gateway, @GatewayReference, @Status, @CheckoutJson, @createdAt, @updatedAt)
            """,
            new { attempt.Id, attempt.OrderId, attempt.Gateway, attempt.GatewayReference, attempt.Status, attempt.CheckoutJson,
                createdAt = Ms(attempt.CreatedAt), updatedAt = Ms(attempt.UpdatedAt) }));
        all.Add(new Statement(
            $"UPDATE orders SET next_check_at = @firstCheckAt, checks_started_at = @startedAt WHERE id = @OrderId AND status IN ({OpenStatusList})",
            new { firstCheckAt = Ms(firstCheckAt), startedAt = Ms(attempt.CreatedAt), attempt.OrderId }));
        all.Add(TimelineInsert(attempt.OrderId, entry));
        if (reply is not null)
        {
            all.Add(IdempotentReplyUpdate(reply));
        }
        return InsertAllOrNothingAsync(all, cancellationToken);
    }

    public Task<IReadOnlyList<AttemptRecord>> GetAttemptsAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<AttemptRecord>)[.. (await connection.QueryAsync<AttemptRow>(Command(
            $"SELECT {AttemptColumns} FROM payment_attempts WHERE order_id = @orderId ORDER BY created_at, id",
            new { orderId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task<AttemptRecord?> FindAttemptByReferenceAsync(string gateway, string gatewayReference, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<AttemptRow>(Command(
            $"SELECT {AttemptColumns} FROM payment_attempts WHERE gateway = @gateway AND gateway_reference = @gatewayReference",
            new { gateway, gatewayReference }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public async Task<bool> TryTransitionAsync(StatusTransition transition, CancellationToken cancellationToken)
    {
        if (!OrderStateMachine.CanMove(transition.From, transition.To))
        {
            throw new ArgumentException($"An order cannot move from {transition.From.ToWire()} to {transition.To.ToWire()}.", nameof(transition));
        }
        // The guard is in the WHERE clause, not in code that read the row earlier: of two racing transitions
        // decided on the same status only one can match, and with the check above a status never moves backwards.
        var guard = new Statement(
            """
            UPDATE orders
            SET status = @to, status_reason = @reason, amount_paid = COALESCE(@amountPaid, amount_paid), updated_at = @at,
                next_check_at = CASE WHEN @stopChecks = 1 THEN NULL ELSE next_check_at END,
                compensation_required_at = CASE WHEN @compensate = 1 THEN @at ELSE compensation_required_at END
            WHERE id = @orderId AND status = @from
            """,
            new
            {
                to = transition.To.ToWire(),
                reason = transition.Reason,
                amountPaid = transition.AmountPaid,
                at = Ms(transition.Entry.At),
                // Final or with an operator: leaves the poller's partial index.
                stopChecks = OrderStateMachine.IsFinal(transition.To) || transition.To == OrderStatus.RequiresReview ? 1 : 0,
                compensate = transition.RequiresCompensation ? 1 : 0,
                orderId = transition.OrderId,
                from = transition.From.ToWire(),
            });
        // What was recorded before the decision goes in the same command, either way (ADR 19).
        List<Statement> always = [.. PriorInserts(transition.OrderId, transition.Prior)];
        // Everything else the transition writes, only if the guard matched.
        var rest = new List<Statement>();
        if (transition is { AttemptId: not null, AttemptStatus: not null })
        {
            rest.Add(new Statement("UPDATE payment_attempts SET status = @status, updated_at = @at WHERE id = @id",
                new { status = transition.AttemptStatus, at = Ms(transition.Entry.At), id = transition.AttemptId }));
        }
        rest.Add(TimelineInsert(transition.OrderId, transition.Entry));
        rest.AddRange(transition.Notifications.Select(OutboxInsert));
        rest.AddRange(transition.Ledger is { } ledger ? LedgerInserts(ledger, transition.Entry.At) : []);
        rest.AddRange(transition.Tasks.Select(OrderTaskInsert));
        rest.AddRange(transition.Completes is { } completion ? CompletionWrites(completion) : []);
        if (StatusChangeAnnouncement(transition.OrderId) is { } announcement)
        {
            rest.Add(announcement);
        }
        var moved = await WriteIfAsync(guard, rest, always, cancellationToken);
        if (moved)
        {
            RaiseOrderStatusChanged(transition.OrderId);
        }
        return moved;
    }

    /// <summary>Statuses from which an order may still change by itself.</summary>
    private const string OpenStatusList = "'created', 'pending', 'unknown'";

    public Task AppendTimelineAsync(string orderId, TimelineEntry entry, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => ExecuteAsync(connection, transaction, TimelineInsert(orderId, entry), cancellationToken), cancellationToken);

    public Task<IReadOnlyList<TimelineEntry>> GetTimelineAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<TimelineEntry>)[.. (await connection.QueryAsync<TimelineRow>(Command(
            "SELECT at, kind, message, data FROM order_events WHERE order_id = @orderId ORDER BY id", new { orderId }, null, cancellationToken)))
            .Select(r => new TimelineEntry(At(r.At), r.Kind, r.Message, r.Data))], cancellationToken);

    private static Statement TimelineInsert(string orderId, TimelineEntry entry) =>
        new("INSERT INTO order_events (order_id, at, kind, message, data) VALUES (@orderId, @at, @Kind, @Message, @DataJson)",
            new { orderId, at = Ms(entry.At), entry.Kind, entry.Message, entry.DataJson });

    private static Task InsertTimelineAsync(DbConnection connection, DbTransaction transaction, string orderId, TimelineEntry entry, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, TimelineInsert(orderId, entry), cancellationToken);
}
