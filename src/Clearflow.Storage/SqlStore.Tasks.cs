using System.Data.Common;
using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private const string TaskColumns = "id, order_id, kind, status, reason, attempts, available_at, last_error, created_at, completed_at";

    private sealed class TaskRow
    {
        public string Id { get; set; } = "";
        public string OrderId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Reason { get; set; }
        public long Attempts { get; set; }
        public long AvailableAt { get; set; }
        public string? LastError { get; set; }
        public long CreatedAt { get; set; }
        public long? CompletedAt { get; set; }

        public OrderTaskRecord ToRecord() => new(Id, OrderId, Kind, Status, Reason, (int)Attempts, At(AvailableAt), LastError, At(CreatedAt), At(CompletedAt));
    }

    private sealed class StepRow
    {
        public string OrderId { get; set; } = "";
        public string Step { get; set; } = "";
        public long Attempt { get; set; }
        public long StartedAt { get; set; }
        public long EndedAt { get; set; }
        public string Outcome { get; set; } = "";
        public string? Error { get; set; }
    }

    public Task<bool> AddOrderTaskAsync(OrderTaskRecord task, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction) => InsertOrderTaskAsync(connection, transaction, task, cancellationToken), cancellationToken);

    private static Statement OrderTaskInsert(OrderTaskRecord task) => new(
        $"""
        INSERT INTO order_tasks ({TaskColumns})
        VALUES (@Id, @OrderId, @Kind, 'pending', @Reason, 0, @availableAt, NULL, @createdAt, NULL)
        ON CONFLICT DO NOTHING
        """, new { task.Id, task.OrderId, task.Kind, task.Reason, availableAt = Ms(task.AvailableAt), createdAt = Ms(task.CreatedAt) });

    private static async Task<bool> InsertOrderTaskAsync(DbConnection connection, DbTransaction transaction, OrderTaskRecord task, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, OrderTaskInsert(task), cancellationToken) == 1;

    // The claim's command is not cancelled half-way: without an explicit transaction a claim the server ran but the
    // caller never read would stay committed, spending an attempt and a lease on work nobody does. The claimed fulfil
    // tasks' orders and merchants are read by the same command (ADR 21; the compensate step reads its own): the
    // claimed rows are the pending ones whose due time is now this lease's end (another node's claim ending in the
    // same millisecond adds rows nobody asks for).
    private string ClaimDueOrderTasksSql() => _claimDueOrderTasksSql ??= $"""
        {ClaimDueSql("order_tasks", "available_at", "status = 'pending'", ", attempts = attempts + 1", TaskColumns)};
        SELECT {Qualified("o", OrderColumns)} FROM orders o
        WHERE o.id IN (SELECT t.order_id FROM order_tasks t WHERE t.status = 'pending' AND t.available_at = @leaseEnd AND t.kind = 'fulfil');
        SELECT {Qualified("m", MerchantColumns)} FROM merchants m
        WHERE m.id IN (SELECT o.merchant_id FROM orders o JOIN order_tasks t ON t.order_id = o.id
            WHERE t.status = 'pending' AND t.available_at = @leaseEnd AND t.kind = 'fulfil')
        """;

    private string? _claimDueOrderTasksSql;

    public Task<ClaimedOrderTasks> ClaimDueOrderTasksAsync(DateTimeOffset now, DateTimeOffset leaseEnd, int limit, CancellationToken cancellationToken) =>
        WriteOneAsync(async (connection, transaction) =>
        {
            using var results = await connection.QueryMultipleAsync(Command(
                ClaimDueOrderTasksSql(), new { now = Ms(now), leaseEnd = Ms(leaseEnd), limit }, transaction, CancellationToken.None));
            var tasks = (await results.ReadAsync<TaskRow>()).Select(r => r.ToRecord()).ToList();
            var orders = (await results.ReadAsync<OrderRow>()).Select(r => r.ToRecord()).ToList();
            var merchants = (await results.ReadAsync<MerchantRow>()).Select(r => r.ToRecord()).ToList();
            return new ClaimedOrderTasks(tasks, orders, merchants);
        }, cancellationToken);

    public Task<bool> CompleteOrderTaskAsync(OrderTaskRecord task, string status, DateTimeOffset at, string? error, TimelineEntry? entry,
        IReadOnlyList<OrderTaskRecord> followUps, IReadOnlyList<OutboxMessage> notifications, StepRecord? step, CancellationToken cancellationToken)
    {
        var guard = new Statement(
            "UPDATE order_tasks SET status = @status, completed_at = @at, last_error = @error WHERE id = @id AND status = 'pending'",
            new { status, at = Ms(at), error, id = task.Id });
        // The step is recorded either way; the rest only by the completion that won.
        var rest = new List<Statement>();
        if (entry is not null)
        {
            rest.Add(TimelineInsert(task.OrderId, entry));
        }
        rest.AddRange(followUps.Select(OrderTaskInsert));
        rest.AddRange(notifications.Select(OutboxInsert));
        return WriteIfAsync(guard, rest, step is null ? [] : [StepInsert(step)], cancellationToken);
    }

    public Task RetryOrderTaskAsync(string taskId, DateTimeOffset availableAt, string error, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => connection.ExecuteAsync(Command(
            "UPDATE order_tasks SET available_at = @availableAt, last_error = @error WHERE id = @taskId AND status = 'pending'",
            new { taskId, availableAt = Ms(availableAt), error }, transaction, cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<OrderTaskRecord>> ListOrderTasksAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<OrderTaskRecord>)[.. (await connection.QueryAsync<TaskRow>(Command(
            $"SELECT {TaskColumns} FROM order_tasks WHERE order_id = @orderId ORDER BY created_at, id", new { orderId }, null, cancellationToken))).Select(r => r.ToRecord())],
            cancellationToken);

    public Task RecordStepAsync(StepRecord step, CancellationToken cancellationToken) =>
        WriteOneAsync((connection, transaction) => InsertStepAsync(connection, transaction, step, cancellationToken), cancellationToken);

    private static Statement StepInsert(StepRecord step) => new(
        """
        INSERT INTO pipeline_steps (order_id, step, attempt, started_at, ended_at, outcome, error)
        VALUES (@OrderId, @Step, @Attempt, @startedAt, @endedAt, @Outcome, @Error)
        """, new { step.OrderId, step.Step, step.Attempt, startedAt = Ms(step.StartedAt), endedAt = Ms(step.EndedAt), step.Outcome, step.Error });

    private static Task<int> InsertStepAsync(DbConnection connection, DbTransaction? transaction, StepRecord step, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, StepInsert(step), cancellationToken);

    public Task<IReadOnlyList<StepRecord>> ListStepsAsync(string orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<StepRecord>)[.. (await connection.QueryAsync<StepRow>(Command(
            "SELECT order_id, step, attempt, started_at, ended_at, outcome, error FROM pipeline_steps WHERE order_id = @orderId ORDER BY id",
            new { orderId }, null, cancellationToken))).Select(r => new StepRecord(r.OrderId, r.Step, (int)r.Attempt, At(r.StartedAt), At(r.EndedAt), r.Outcome, r.Error))],
            cancellationToken);
}
