using System.Data.Common;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string EndpointColumns =
        "id, merchant_id, url, event_types, secret, previous_secret, previous_secret_expires_at, status, failing_since, disabled_at, disabled_reason, created_at";

    private const string DeliveryColumns =
        "id, outbox_id, merchant_id, order_id, topic, channel, target, status, attempts, available_at, last_status_code, last_error, created_at, delivered_at";

    private sealed class EndpointRow
    {
        public string Id { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string Url { get; set; } = "";
        public string EventTypes { get; set; } = "[]";
        public string Secret { get; set; } = "";
        public string? PreviousSecret { get; set; }
        public long? PreviousSecretExpiresAt { get; set; }
        public string Status { get; set; } = "";
        public long? FailingSince { get; set; }
        public long? DisabledAt { get; set; }
        public string? DisabledReason { get; set; }
        public long CreatedAt { get; set; }

        public WebhookEndpointRecord ToRecord() => new(Id, MerchantId, Url, Json.Deserialize<List<string>>(EventTypes), Secret, PreviousSecret, At(PreviousSecretExpiresAt),
            Status, At(FailingSince), At(DisabledAt), DisabledReason, At(CreatedAt));
    }

    private sealed class DeliveryRow
    {
        public string Id { get; set; } = "";
        public string OutboxId { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string? OrderId { get; set; }
        public string Topic { get; set; } = "";
        public string Channel { get; set; } = "";
        public string Target { get; set; } = "";
        public string Status { get; set; } = "";
        public long Attempts { get; set; }
        public long AvailableAt { get; set; }
        public long? LastStatusCode { get; set; }
        public string? LastError { get; set; }
        public long CreatedAt { get; set; }
        public long? DeliveredAt { get; set; }

        public DeliveryRecord ToRecord() => new(Id, OutboxId, MerchantId, OrderId, Topic, Channel, Target, Status, (int)Attempts, At(AvailableAt),
            (int?)LastStatusCode, LastError, At(CreatedAt), At(DeliveredAt));
    }

    private sealed class DeliveryAttemptRow
    {
        public string DeliveryId { get; set; } = "";
        public long Attempt { get; set; }
        public long At { get; set; }
        public long? StatusCode { get; set; }
        public long LatencyMs { get; set; }
        public string? ResponseExcerpt { get; set; }
        public string? Error { get; set; }
    }

    public Task AddWebhookEndpointAsync(WebhookEndpointRecord endpoint, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            $"""
            INSERT INTO webhook_endpoints ({EndpointColumns})
            VALUES (@Id, @MerchantId, @Url, @eventTypes, @Secret, NULL, NULL, @Status, NULL, NULL, NULL, @createdAt)
            """, new { endpoint.Id, endpoint.MerchantId, endpoint.Url, eventTypes = Json.Serialize(endpoint.EventTypes), endpoint.Secret, endpoint.Status,
                createdAt = Ms(endpoint.CreatedAt) }, transaction, cancellationToken)), cancellationToken);

    public Task<WebhookEndpointRecord?> GetWebhookEndpointAsync(string endpointId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<EndpointRow>(Command(
            $"SELECT {EndpointColumns} FROM webhook_endpoints WHERE id = @endpointId", new { endpointId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public async Task<IReadOnlyList<WebhookEndpointRecord>> GetWebhookEndpointsAsync(IReadOnlyCollection<string> endpointIds, CancellationToken cancellationToken)
    {
        if (endpointIds.Count == 0)
        {
            return [];
        }
        var parameters = new DynamicParameters();
        var oneOf = OneOf("id", endpointIds, parameters);
        return await ReadAsync(async connection => (IReadOnlyList<WebhookEndpointRecord>)[.. (await connection.QueryAsync<EndpointRow>(Command(
            $"SELECT {EndpointColumns} FROM webhook_endpoints WHERE {oneOf}", parameters, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);
    }

    public Task<IReadOnlyList<WebhookEndpointRecord>> ListWebhookEndpointsAsync(string merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<WebhookEndpointRecord>)[.. (await connection.QueryAsync<EndpointRow>(Command(
            $"SELECT {EndpointColumns} FROM webhook_endpoints WHERE merchant_id = @merchantId AND status <> 'deleted' ORDER BY created_at, id",
            new { merchantId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task RotateWebhookSecretAsync(string endpointId, string newSecret, DateTimeOffset previousExpiresAt, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = @expires, secret = @newSecret WHERE id = @endpointId",
            new { endpointId, newSecret, expires = Ms(previousExpiresAt) }, transaction, cancellationToken)), cancellationToken);

    public Task SetWebhookEndpointStatusAsync(string endpointId, string status, string? reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            """
            UPDATE webhook_endpoints SET status = @status,
                failing_since = CASE WHEN @status = 'enabled' THEN NULL ELSE failing_since END,
                disabled_at = CASE WHEN @status = 'enabled' THEN NULL ELSE @at END,
                disabled_reason = CASE WHEN @status = 'enabled' THEN NULL ELSE @reason END
            WHERE id = @endpointId
            """, new { endpointId, status, reason, at = Ms(at) }, transaction, cancellationToken)), cancellationToken);

    public Task<DateTimeOffset> RecordEndpointFailureAsync(string endpointId, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => At(await connection.QuerySingleOrDefaultAsync<long?>(Command(
            """
            UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, @at)
            WHERE id = @endpointId
            RETURNING failing_since
            """, new { endpointId, at = Ms(at) }, transaction, cancellationToken))) ?? at, cancellationToken);

    public Task<bool> DisableFailingEndpointAsync(string endpointId, DateTimeOffset failingSinceBefore, DateTimeOffset at, string reason, OutboxMessage notice,
        CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var disabled = await connection.ExecuteAsync(Command(
                """
                UPDATE webhook_endpoints SET status = 'disabled', disabled_at = @at, disabled_reason = @reason
                WHERE id = @endpointId AND status = 'enabled' AND failing_since <= @before
                """, new { endpointId, at = Ms(at), reason, before = Ms(failingSinceBefore) }, transaction, cancellationToken));
            if (disabled == 0)
            {
                return false;
            }
            await InsertOutboxAsync(connection, transaction, notice, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<OutboxMessage>> ListUndispatchedOutboxAsync(int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<OutboxMessage>)[.. (await connection.QueryAsync<OutboxRow>(Command(
            """
            SELECT id, merchant_id, order_id, topic, dedupe_key, payload, created_at, dispatched_at FROM outbox_messages
            WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT @limit
            """, new { limit }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public async Task<IReadOnlyList<OutboxMessage>> GetOutboxMessagesAsync(IReadOnlyCollection<string> outboxIds, CancellationToken cancellationToken)
    {
        if (outboxIds.Count == 0)
        {
            return [];
        }
        var parameters = new DynamicParameters();
        var oneOf = OneOf("id", outboxIds, parameters);
        return await ReadAsync(async connection => (IReadOnlyList<OutboxMessage>)[.. (await connection.QueryAsync<OutboxRow>(Command(
            $"SELECT id, merchant_id, order_id, topic, dedupe_key, payload, created_at, dispatched_at FROM outbox_messages WHERE {oneOf}",
            parameters, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);
    }

    public Task<IReadOnlyList<string>> CommitFanOutsAsync(IReadOnlyList<OutboxFanOut> fanOuts, DateTimeOffset at, CancellationToken cancellationToken) =>
        fanOuts.Count == 0 ? Task.FromResult<IReadOnlyList<string>>([]) : WriteAsync<IReadOnlyList<string>>(async (connection, transaction) =>
        {
            // One statement marks the whole batch; only the messages it marked (not taken by another node) fan out.
            var parameters = new DynamicParameters();
            parameters.Add("at", Ms(at));
            var oneOf = OneOf("id", fanOuts.Select(f => f.OutboxId), parameters);
            var marked = (await connection.QueryAsync<string>(Command(
                $"UPDATE outbox_messages SET dispatched_at = @at WHERE {oneOf} AND dispatched_at IS NULL RETURNING id",
                parameters, transaction, cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var deliveries = new StatementBatch();
            foreach (var d in fanOuts.Where(f => marked.Contains(f.OutboxId)).SelectMany(f => f.Deliveries))
            {
                deliveries.Add(new Statement(
                    $"""
                    INSERT INTO notification_deliveries ({DeliveryColumns})
                    VALUES (@Id, @OutboxId, @MerchantId, @OrderId, @Topic, @Channel, @Target, 'pending', @Attempts, @availableAt, NULL, NULL, @createdAt, NULL)
                    ON CONFLICT DO NOTHING
                    """, new { d.Id, d.OutboxId, d.MerchantId, d.OrderId, d.Topic, d.Channel, d.Target, d.Attempts, availableAt = Ms(d.AvailableAt), createdAt = Ms(d.CreatedAt) }));
            }
            await deliveries.ExecuteAsync(connection, transaction, cancellationToken);
            return [.. fanOuts.Select(f => f.OutboxId).Where(marked.Contains)];
        }, cancellationToken);

    // The claim's command is not cancelled half-way: without an explicit transaction a claim the server ran but the
    // caller never read would stay committed, spending an attempt and a lease on work nobody does.
    public Task<IReadOnlyList<DeliveryRecord>> ClaimDueDeliveriesAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => (IReadOnlyList<DeliveryRecord>)[.. (await connection.QueryAsync<DeliveryRow>(Command(
            ClaimDueSql("notification_deliveries", "available_at", "status = 'pending'", ", attempts = attempts + 1", DeliveryColumns),
            new { now = Ms(now), leaseEnd = Ms(leaseEnd), limit }, transaction, CancellationToken.None))).Select(r => r.ToRecord())], cancellationToken);

    public async Task<IReadOnlyList<Exception?>> RecordDeliveryAttemptsAsync(IReadOnlyList<DeliveryResult> results, CancellationToken cancellationToken)
    {
        var outcomes = new Exception?[results.Count];
        if (results.Count == 0)
        {
            return outcomes;
        }
        try
        {
            await WriteBatchAsync(AttemptRecords(results), cancellationToken);
            return outcomes;
        }
        catch (DbException refused) when (IsReportedByDatabase(refused))
        {
            // The database refused the command and undid it: one by one, so that a record it refuses costs the others
            // nothing (ADR 20). Not after an error it did not report (a dropped connection): the command may have
            // committed, and writing again would record the attempts and their timeline entries twice.
            if (results.Count == 1)
            {
                outcomes[0] = refused;
                return outcomes;
            }
            for (var i = 0; i < results.Count; i++)
            {
                try
                {
                    await WriteBatchAsync(AttemptRecords([results[i]]), cancellationToken);
                }
                catch (DbException alone) when (IsReportedByDatabase(alone))
                {
                    outcomes[i] = alone;
                }
            }
            return outcomes;
        }
    }

    /// <summary>
    /// Each delivery's new state, its attempt's record and the order's timeline entry, then the end of the failure streak
    /// of each endpoint that took one (in id order, so two writes lock endpoints in the same order): one command, all or
    /// nothing. A delivery's state changes only if no later lease was taken meanwhile: a send that outlived its lease must
    /// not set back what the next attempt decided (the attempt itself is still recorded).
    /// </summary>
    private static StatementBatch AttemptRecords(IReadOnlyList<DeliveryResult> results)
    {
        var all = new StatementBatch();
        foreach (var result in results)
        {
            var a = result.Attempt;
            all.Add(new Statement(
                """
                UPDATE notification_deliveries SET status = @status, last_status_code = @StatusCode, last_error = @Error,
                    delivered_at = CASE WHEN @status = 'delivered' THEN @at ELSE delivered_at END,
                    available_at = COALESCE(@next, available_at)
                WHERE id = @DeliveryId AND attempts = @Attempt
                """, new { status = result.Status, a.StatusCode, a.Error, at = Ms(a.At), next = Ms(result.NextAttemptAt), a.DeliveryId, a.Attempt }));
            all.Add(new Statement(
                """
                INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, latency_ms, response_excerpt, error)
                VALUES (@DeliveryId, @Attempt, @at, @StatusCode, @LatencyMs, @ResponseExcerpt, @Error)
                """, new { a.DeliveryId, a.Attempt, at = Ms(a.At), a.StatusCode, a.LatencyMs, a.ResponseExcerpt, a.Error }));
            if (result.OrderId is { } orderId && result.Entry is { } entry)
            {
                all.Add(TimelineInsert(orderId, entry));
            }
        }
        foreach (var endpointId in results.Select(r => r.TakenByEndpointId).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            // Matches no row unless the endpoint was failing: no write, no row lock shared by every delivery to it.
            all.Add(new Statement("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = @endpointId AND failing_since IS NOT NULL", new { endpointId }));
        }
        return all;
    }

    public Task<DeliveryRecord?> GetDeliveryAsync(string deliveryId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<DeliveryRow>(Command(
            $"SELECT {DeliveryColumns} FROM notification_deliveries WHERE id = @deliveryId", new { deliveryId }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<IReadOnlyList<DeliveryRecord>> ListDeliveriesAsync(string merchantId, string? target, string? orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<DeliveryRecord>)[.. (await connection.QueryAsync<DeliveryRow>(Command(
            $"""
            SELECT {DeliveryColumns} FROM notification_deliveries
            WHERE merchant_id = @merchantId AND (@target IS NULL OR target = @target) AND (@orderId IS NULL OR order_id = @orderId)
            ORDER BY created_at, id
            """, new { merchantId, target, orderId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task<IReadOnlyList<DeliveryRecord>> ListRecentDeliveriesAsync(string merchantId, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<DeliveryRecord>)[.. (await connection.QueryAsync<DeliveryRow>(Command(
            $"SELECT {DeliveryColumns} FROM notification_deliveries WHERE merchant_id = @merchantId ORDER BY created_at DESC, id DESC LIMIT @limit",
            new { merchantId, limit }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    public Task<IReadOnlyList<DeliveryAttemptRecord>> ListDeliveryAttemptsAsync(string deliveryId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<DeliveryAttemptRecord>)[.. (await connection.QueryAsync<DeliveryAttemptRow>(Command(
            "SELECT delivery_id, attempt, at, status_code, latency_ms, response_excerpt, error FROM delivery_attempts WHERE delivery_id = @deliveryId ORDER BY id",
            new { deliveryId }, null, cancellationToken)))
            .Select(r => new DeliveryAttemptRecord(r.DeliveryId, (int)r.Attempt, At(r.At), (int?)r.StatusCode, r.LatencyMs, r.ResponseExcerpt, r.Error))], cancellationToken);

    public Task<bool> ReplayDeliveryAsync(string deliveryId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            "UPDATE notification_deliveries SET status = 'pending', available_at = @now WHERE id = @deliveryId AND status <> 'pending'",
            new { deliveryId, now = Ms(now) }, transaction, cancellationToken)) == 1, cancellationToken);
}
