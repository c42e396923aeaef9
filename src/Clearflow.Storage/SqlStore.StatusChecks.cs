using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    /// <summary>
    /// The claim statement: rows of <paramref name="table"/> whose <paramref name="dueColumn"/> is due get
    /// it moved to the lease end, in one statement. On SQLite one writer runs at a time, so that is the
    /// whole claim; PostgreSQL adds <c>FOR UPDATE SKIP LOCKED</c> so concurrent claimers skip each other's rows.
    /// Parameters: @now, @leaseEnd, @limit. Composed once per claim and kept (<see cref="ComposeClaimDueSql"/> writes it).
    /// </summary>
    protected string ClaimDueSql(string table, string dueColumn, string condition, string setExtra, string returning, string key = "id", string? orderBy = null) =>
        _claimSqls.GetOrAdd((table, dueColumn, condition, setExtra, returning, key, orderBy),
            static (k, store) => store.ComposeClaimDueSql(k.Table, k.DueColumn, k.Condition, k.SetExtra, k.Returning, k.Key, k.OrderBy), this);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Table, string DueColumn, string Condition, string SetExtra, string Returning, string Key, string? OrderBy), string>
        _claimSqls = new();

    /// <summary>This dialect's claim statement (see <see cref="ClaimDueSql"/>).</summary>
    protected virtual string ComposeClaimDueSql(string table, string dueColumn, string condition, string setExtra, string returning, string key = "id", string? orderBy = null) => $"""
        UPDATE {table} SET {dueColumn} = @leaseEnd{setExtra}
        WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} AND {dueColumn} <= @now ORDER BY {orderBy ?? dueColumn} LIMIT @limit)
          AND {dueColumn} <= @now
        RETURNING {returning}
        """;

    // The claim's command is not cancelled half-way: without an explicit transaction a claim the server ran but the
    // caller never read would stay committed, spending an attempt and a lease on work nobody does.
    public Task<IReadOnlyList<string>> ClaimDueStatusChecksAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) => (IReadOnlyList<string>)[.. await connection.QueryAsync<string>(Command(
            ClaimDueSql("orders", "next_check_at", "next_check_at IS NOT NULL", "", "id"),
            new { now = Ms(now), leaseEnd = Ms(leaseEnd), limit }, transaction, CancellationToken.None))], cancellationToken);

    public Task RecordStatusCheckAsync(StatusCheckRecord check, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            """
            UPDATE orders SET
                check_count = check_count + @answered,
                check_failures = CASE WHEN @answered = 1 THEN 0 ELSE check_failures + 1 END,
                last_checked_at = @checkedAt,
                last_gateway_status = @gatewayStatus,
                -- a transition to a final status in between already cleared it: keep it cleared
                next_check_at = CASE WHEN next_check_at IS NULL THEN NULL ELSE @nextCheckAt END
            WHERE id = @OrderId
            """,
            new { check.OrderId, answered = check.Answered ? 1 : 0, checkedAt = Ms(check.CheckedAt), gatewayStatus = check.GatewayStatus, nextCheckAt = Ms(check.NextCheckAt) },
            transaction, cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<OrderRecord>> ListOpenOrdersCreatedBetweenAsync(string merchantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<OrderRecord>)[.. (await connection.QueryAsync<OrderRow>(Command(
            $"""
            SELECT {OrderColumns} FROM orders
            WHERE merchant_id = @merchantId AND created_at >= @from AND created_at < @to AND status IN ({OpenStatusList}, 'requires_review')
            ORDER BY created_at, id
            """, new { merchantId, from = Ms(from), to = Ms(to) }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    private sealed class TotalRow
    {
        public string Status { get; set; } = "";
        public string Currency { get; set; } = "";
        public long Count { get; set; }
        public long Amount { get; set; }
    }

    public Task<IReadOnlyList<StatusTotal>> TotalsByStatusAsync(string merchantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<StatusTotal>)[.. (await connection.QueryAsync<TotalRow>(Command(
            """
            SELECT status, currency, COUNT(*) AS count, SUM(amount) AS amount FROM orders
            WHERE merchant_id = @merchantId AND created_at >= @from AND created_at < @to
            GROUP BY status, currency ORDER BY status, currency
            """, new { merchantId, from = Ms(from), to = Ms(to) }, null, cancellationToken)))
            .Select(r => new StatusTotal(r.Status, r.Currency, (int)r.Count, r.Amount))], cancellationToken);
}
