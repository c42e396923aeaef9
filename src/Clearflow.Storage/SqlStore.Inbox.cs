using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string InboxColumns =
        "id, source, gateway, dedupe_key, gateway_reference, order_id, event_type, observation, raw_body, received_at, attempts, processed_at, outcome, merchant_id";

    private sealed class InboxRow
    {
        public string Id { get; set; } = "";
        public string Source { get; set; } = "";
        public string Gateway { get; set; } = "";
        public string DedupeKey { get; set; } = "";
        public string GatewayReference { get; set; } = "";
        public string? OrderId { get; set; }
        public string EventType { get; set; } = "";
        public string? Observation { get; set; }
        public byte[]? RawBody { get; set; }
        public long ReceivedAt { get; set; }
        public long Attempts { get; set; }
        public long? ProcessedAt { get; set; }
        public string? Outcome { get; set; }
        public string? MerchantId { get; set; }

        public InboxEventRecord ToRecord() => new(Id, Enum.Parse<InboxSource>(Source, ignoreCase: true), Gateway, DedupeKey, GatewayReference, OrderId,
            EventType, Observation, RawBody, At(ReceivedAt), (int)Attempts, At(ProcessedAt), Outcome) { MerchantId = MerchantId };
    }

    /// <summary>An event's insert, due at <c>@availableAt</c> with <c>@attempts</c> leases counted (<see cref="InboxInsertParameters"/>).</summary>
    private const string InboxInsertSql = """
        INSERT INTO inbox_events (id, source, gateway, dedupe_key, gateway_reference, order_id, event_type, observation, raw_body, received_at, available_at, attempts, merchant_id)
        VALUES (@id, @source, @Gateway, @DedupeKey, @GatewayReference, @OrderId, @EventType, @ObservationJson, @RawBody, @receivedAt, @availableAt, @attempts, @MerchantId)
        ON CONFLICT DO NOTHING
        """;

    private static object InboxInsertParameters(InboxEventRecord inboxEvent, DateTimeOffset availableAt, int attempts) => new
    {
        id = inboxEvent.Id, source = inboxEvent.Source.ToString().ToLowerInvariant(), inboxEvent.Gateway, inboxEvent.DedupeKey, inboxEvent.GatewayReference,
        inboxEvent.OrderId, inboxEvent.EventType, inboxEvent.ObservationJson, inboxEvent.RawBody, receivedAt = Ms(inboxEvent.ReceivedAt),
        availableAt = Ms(availableAt), attempts, inboxEvent.MerchantId,
    };

    public Task<bool> InsertInboxEventAsync(InboxEventRecord inboxEvent, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => await connection.ExecuteAsync(Command(
            InboxInsertSql, InboxInsertParameters(inboxEvent, inboxEvent.ReceivedAt, 0), transaction, cancellationToken)) == 1, cancellationToken);

    // The claim's command is not cancelled half-way: without an explicit transaction a claim the server ran but the
    // caller never read would stay committed, spending an attempt and a lease on work nobody does. The attempt, its
    // order and the order's merchant are read in the same command (one round trip): an event's gateway and reference
    // never change, nor does an attempt's order or an order's merchant. The order's status may have moved by the time it
    // is decided on; every move is guarded by the status it was decided on (ADR 19).
    private const string ClaimedAttemptJoin = """
        FROM inbox_events e
        JOIN payment_attempts a ON a.gateway = e.gateway AND a.gateway_reference = e.gateway_reference
        JOIN orders o ON o.id = a.order_id
        """;

    /// <summary>What a claim reads with the event it took (<c>@id</c>): its attempt, the attempt's order and the order's merchant.</summary>
    private static readonly string ClaimReadsSql = $"""
        SELECT {Qualified("a", AttemptColumns)} {ClaimedAttemptJoin} WHERE e.id = @id;
        SELECT {Qualified("o", OrderColumns)} {ClaimedAttemptJoin} WHERE e.id = @id;
        SELECT {Qualified("m", MerchantColumns)} {ClaimedAttemptJoin} JOIN merchants m ON m.id = o.merchant_id WHERE e.id = @id
        """;

    private static readonly string ClaimInboxEventSql = $"""
        UPDATE inbox_events SET available_at = @leaseEnd, attempts = attempts + 1
        WHERE id = @id AND processed_at IS NULL AND available_at <= @now
        RETURNING {InboxColumns};
        {ClaimReadsSql}
        """;

    // The holder's own lease is the one whose attempts it saw: a claim by anyone else since (after that lease ended) has
    // counted another attempt.
    private static readonly string ReclaimInboxEventSql = $"""
        UPDATE inbox_events SET available_at = @leaseEnd, attempts = attempts + 1
        WHERE id = @id AND processed_at IS NULL AND (available_at <= @now OR attempts = @heldAttempts)
        RETURNING {InboxColumns};
        {ClaimReadsSql}
        """;

    // Stored as its first attempt, leased to the node that received it (ADR 23); the reads see the row the INSERT wrote
    // (same command, same transaction), and nothing when it was a duplicate.
    private static readonly string InsertLeasedInboxEventSql = $"""
        {InboxInsertSql}
        RETURNING id;
        {ClaimReadsSql}
        """;

    public Task<ClaimedInboxEvent?> TryClaimInboxEventAsync(string id, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimAsync(ClaimInboxEventSql, new { id, now = Ms(now), leaseEnd = Ms(now + lease) }, cancellationToken);

    public Task<ClaimedInboxEvent?> TryReclaimInboxEventAsync(string id, int heldAttempts, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimAsync(ReclaimInboxEventSql, new { id, heldAttempts, now = Ms(now), leaseEnd = Ms(now + lease) }, cancellationToken);

    private Task<ClaimedInboxEvent?> ClaimAsync(string sql, object parameters, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) =>
        {
            using var results = await connection.QueryMultipleAsync(Command(sql, parameters, transaction, CancellationToken.None));
            return await ReadClaimAsync(results, (await results.ReadSingleOrDefaultAsync<InboxRow>())?.ToRecord());
        }, cancellationToken);

    // Not cancelled half-way either: the event is acknowledged to the gateway only once this returns, and a committed
    // event leased to a caller that never saw it would wait out the lease.
    public Task<ClaimedInboxEvent?> InsertLeasedInboxEventAsync(InboxEventRecord inboxEvent, DateTimeOffset leaseEnd, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) =>
        {
            using var results = await connection.QueryMultipleAsync(Command(
                InsertLeasedInboxEventSql, InboxInsertParameters(inboxEvent, leaseEnd, 1), transaction, CancellationToken.None));
            var inserted = await results.ReadSingleOrDefaultAsync<string>() is not null;
            // As stored (the first attempt, the receipt time at the storage's millisecond precision), without the raw body:
            // nothing in processing reads it, and the event may wait in a queue.
            return await ReadClaimAsync(results, inserted ? inboxEvent with { Attempts = 1, ReceivedAt = At(Ms(inboxEvent.ReceivedAt)), RawBody = null } : null);
        }, cancellationToken);

    private static async Task<ClaimedInboxEvent?> ReadClaimAsync(SqlMapper.GridReader results, InboxEventRecord? claimed)
    {
        var attempt = await results.ReadSingleOrDefaultAsync<AttemptRow>();
        var order = await results.ReadSingleOrDefaultAsync<OrderRow>();
        var merchant = await results.ReadSingleOrDefaultAsync<MerchantRow>();
        return claimed is null ? null : new ClaimedInboxEvent(claimed, attempt?.ToRecord(), order?.ToRecord(), merchant?.ToRecord());
    }

    public Task<IReadOnlyList<string>> ListDueInboxEventIdsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<string>)[.. await connection.QueryAsync<string>(Command(
            "SELECT id FROM inbox_events WHERE processed_at IS NULL AND available_at <= @now ORDER BY available_at LIMIT @limit",
            new { now = Ms(now), limit }, null, cancellationToken))], cancellationToken);

    public Task CompleteInboxEventAsync(string id, DateTimeOffset now, string outcome, StepRecord? step, CancellationToken cancellationToken)
    {
        var both = new StatementBatch();
        if (step is not null)
        {
            both.Add(StepInsert(step));
        }
        both.Add(InboxProcessedUpdate(id, now, outcome));
        return WriteBatchAsync(both, cancellationToken);
    }

    public Task RecordIgnoredAsync(string orderId, PriorRecords? prior, TimelineEntry ignored, InboxCompletion completion, CancellationToken cancellationToken)
    {
        var all = new StatementBatch();
        foreach (var statement in PriorInserts(orderId, prior).Append(TimelineInsert(orderId, ignored)).Concat(CompletionWrites(completion)))
        {
            all.Add(statement);
        }
        return WriteBatchAsync(all, cancellationToken);
    }

    /// <summary>What was recorded before a decision: its timeline entry (if any), then its step.</summary>
    private static IEnumerable<Statement> PriorInserts(string orderId, PriorRecords? prior)
    {
        if (prior is null)
        {
            yield break;
        }
        if (prior.Entry is { } entry)
        {
            yield return TimelineInsert(orderId, entry);
        }
        yield return StepInsert(prior.Step);
    }

    /// <summary>An inbox event processed: its step, and the event marked with its outcome.</summary>
    private static IEnumerable<Statement> CompletionWrites(InboxCompletion completion) =>
        [StepInsert(completion.Step), InboxProcessedUpdate(completion.InboxEventId, completion.At, completion.Outcome)];

    private static Statement InboxProcessedUpdate(string id, DateTimeOffset now, string outcome) =>
        new("UPDATE inbox_events SET processed_at = @now, outcome = @outcome, last_error = NULL WHERE id = @id", new { id, now = Ms(now), outcome });

    public Task DeferInboxEventAsync(string id, DateTimeOffset retryAt, string error, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            "UPDATE inbox_events SET available_at = @retryAt, last_error = @error WHERE id = @id AND processed_at IS NULL",
            new { id, retryAt = Ms(retryAt), error }, transaction, cancellationToken)), cancellationToken);

    public Task<InboxEventRecord?> GetInboxEventAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await connection.QuerySingleOrDefaultAsync<InboxRow>(Command(
            $"SELECT {InboxColumns} FROM inbox_events WHERE id = @id", new { id }, null, cancellationToken)))?.ToRecord(), cancellationToken);

    public Task<string?> FindAttemptOwnerAsync(string gateway, string gatewayReference, CancellationToken cancellationToken) =>
        ReadAsync(async connection => await connection.QuerySingleOrDefaultAsync<string?>(Command(
            "SELECT o.merchant_id FROM payment_attempts a JOIN orders o ON o.id = a.order_id WHERE a.gateway = @gateway AND a.gateway_reference = @gatewayReference",
            new { gateway, gatewayReference }, null, cancellationToken)), cancellationToken);
}
