using System.Data.Common;
using System.Diagnostics;
using Clearflow.Application.Abstractions;
using Clearflow.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Clearflow.Bench;

/// <summary>
/// How long one claim of a batch of due status checks takes when the orders table is big: N final
/// orders (next_check_at NULL, outside the partial index) and M due ones. Rows are made by SQL in the
/// database itself, so setup takes seconds, not hours.
/// </summary>
public static class ClaimDueChecksBenchmark
{
    public sealed record Result(string Store, int FinalOrders, int DueOrders, int BatchSize, int Claims, double MedianMs, double P95Ms, double MaxMs, string Plan);

    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    public static async Task<Result> RunAsync(string storeKind, string connectionString, int finalOrders, int dueOrders, int batchSize, int claims)
    {
        var store = StorageConfiguration.Create(connectionString);
        await store.MigrateAsync(CancellationToken.None);
        var merchant = new MerchantRecord("mer_bench", "Bench " + Guid.NewGuid().ToString("N")[..6], "{}", Now);
        await store.CreateMerchantAsync(merchant, CancellationToken.None);

        Console.Error.WriteLine($"[{storeKind}] inserting {finalOrders:N0} final and {dueOrders:N0} due orders ...");
        var setup = Stopwatch.StartNew();
        await using (var connection = Open(storeKind, connectionString))
        {
            await connection.OpenAsync();
            await ExecAsync(connection, Fill(storeKind, finalOrders, dueOrders, Now.ToUnixTimeMilliseconds()));
            await ExecAsync(connection, storeKind == "postgresql" ? "ANALYZE orders" : "ANALYZE");
        }
        Console.Error.WriteLine($"[{storeKind}] setup took {setup.Elapsed.TotalSeconds:0.0} s");

        // Warm-up claim (connection pool, plan cache), then the measured ones; each takes a fresh batch.
        await store.ClaimDueStatusChecksAsync(Now, Now.AddMinutes(2), batchSize, CancellationToken.None);
        var timings = new List<double>();
        for (var i = 0; i < claims; i++)
        {
            var watch = Stopwatch.StartNew();
            var claimed = await store.ClaimDueStatusChecksAsync(Now, Now.AddMinutes(2), batchSize, CancellationToken.None);
            watch.Stop();
            if (claimed.Count != batchSize)
            {
                throw new InvalidOperationException($"Claim {i} took {claimed.Count} orders, expected {batchSize}: not enough due orders for this many claims.");
            }
            timings.Add(watch.Elapsed.TotalMilliseconds);
        }
        timings.Sort();

        string plan;
        await using (var connection = Open(storeKind, connectionString))
        {
            await connection.OpenAsync();
            plan = await PlanAsync(connection, storeKind, Now.ToUnixTimeMilliseconds(), batchSize);
        }
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        return new Result(storeKind, finalOrders, dueOrders, batchSize, claims, Percentile(timings, 0.5), Percentile(timings, 0.95), timings[^1], plan);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];

    private static DbConnection Open(string storeKind, string connectionString) => storeKind == "postgresql"
        ? new NpgsqlConnection(connectionString)
        : new SqliteConnection(connectionString);

    private static async Task ExecAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Final orders have no next check; due ones are spread over the last hour.</summary>
    private static string Fill(string storeKind, int finalOrders, int dueOrders, long nowMs)
    {
        var total = finalOrders + dueOrders;
        var rows = storeKind == "postgresql"
            ? $"SELECT i FROM generate_series(1, {total}) AS i"
            : $"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {total}) SELECT i FROM seq";
        return $$"""
            INSERT INTO orders (id, merchant_id, receipt, amount, currency, amount_paid, amount_refunded, status, gateway, customer_id, metadata,
                                client_secret, idempotency_key, created_at, updated_at, next_check_at)
            SELECT 'ord_bench_' || i, 'mer_bench', 'r' || i, 1000, 'INR',
                   CASE WHEN i <= {{finalOrders}} THEN 1000 ELSE 0 END, 0,
                   CASE WHEN i <= {{finalOrders}} THEN 'succeeded' ELSE 'pending' END,
                   'sandbox', 'c', '{}', 's', 'k' || i, {{nowMs}} - 86400000, {{nowMs}} - 86400000,
                   CASE WHEN i <= {{finalOrders}} THEN NULL ELSE {{nowMs}} - (i % 3600000) END
            FROM ({{rows}}) AS numbers
            """;
    }

    private static async Task<string> PlanAsync(DbConnection connection, string storeKind, long nowMs, int batchSize)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = storeKind == "postgresql"
            ? $"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT id FROM orders WHERE next_check_at <= {nowMs} ORDER BY next_check_at LIMIT {batchSize} FOR UPDATE SKIP LOCKED"
            : $"EXPLAIN QUERY PLAN SELECT id FROM orders WHERE next_check_at <= {nowMs} ORDER BY next_check_at LIMIT {batchSize}";
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(storeKind == "postgresql" ? reader.GetString(0) : reader.GetString(3));
        }
        return string.Join(Environment.NewLine, lines);
    }
}
