using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clearflow.TestSupport;
using HdrHistogram;
using Npgsql;

namespace Clearflow.Bench;

/// <summary>
/// Complete payments through a running Clearflow on PostgreSQL: create order, sandbox checkout success,
/// signed webhook, pipeline (verify, transition with ledger and outbox), fulfilment to a local endpoint,
/// notifications. Then pgbench runs the minimal writes of one payment on the same server: the limit.
/// Clearflow runs as its own process (<see cref="ClearflowProcess"/>), so its memory and CPU are its own;
/// everything is on loopback and stops by itself.
/// </summary>
public static class EndToEndBenchmark
{
    /// <param name="Rate">Payments per second to start in the measured part (0: as fast as the customers can).</param>
    public sealed record Settings(int Concurrency, TimeSpan Duration, TimeSpan PgbenchDuration, TimeSpan Warmup, double Rate);

    public static async Task<string> RunAsync(Settings settings)
    {
        // Statement statistics: how many SQL statements and transactions one payment costs.
        var server = new PostgresServer { ExtraOptions = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top" };
        await server.InitializeAsync();
        try
        {
            var clearflow = await RunClearflowAsync(server, settings);
            var limit = await RunPgbenchAsync(server, settings);
            return Report(settings, clearflow, limit);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private sealed record ClearflowFigures(int Payments, double PaymentsPerSecond, LongHistogram CreateMicros, double WebhookToFinalP50Ms, double WebhookToFinalP99Ms,
        long PeakMemoryBytes, double RowsPerPayment, double BytesPerPayment, double StatementsPerPayment, double TransactionsPerPayment,
        double WebhookToFulfilledP50Ms, double WebhookToFulfilledP99Ms, double FulfilStepP50Ms,
        double ServerCpuMsPerPayment, double MachineCpuMsPerPayment, double MerchantRequestsPerPayment, double LogLinesPerPayment,
        double PostgresCpuMsPerPayment, double HarnessCpuMsPerPayment, double StatementMsPerPayment);

    /// <summary>The benchmark's own polling ("are they all fulfilled yet?") is not Clearflow's work.</summary>
    private const string WaitQuery = "SELECT COUNT(*) FROM order_tasks WHERE kind = 'fulfil' AND status = 'done'";

    /// <summary>Notifications not yet sent: a payment is complete when the merchant has been told, too.</summary>
    private const string UnsentQuery =
        "SELECT (SELECT COUNT(*) FROM outbox_messages WHERE dispatched_at IS NULL) + (SELECT COUNT(*) FROM notification_deliveries WHERE status = 'pending')";

    private static async Task<ClearflowFigures> RunClearflowAsync(PostgresServer server, Settings settings)
    {
        var database = await server.CreateDatabaseAsync();
        await using var merchant = await FakeMerchantEndpoint.StartAsync();
        Console.Error.WriteLine("Starting clearflow ...");
        await using var clearflow = await ClearflowProcess.StartAsync(database);
        using var api = new HttpClient { BaseAddress = clearflow.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", clearflow.SecretKey);
        using var sandbox = new HttpClient { BaseAddress = clearflow.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using (var put = await api.PutAsync("/v1/merchant/settings", new StringContent(JsonSerializer.Serialize(new
               {
                   fulfilment = new { mode = "webhook", url = merchant.Url.ToString() },
               }), Encoding.UTF8, "application/json")))
        {
            put.EnsureSuccessStatusCode();
        }
        // Notifications: the merchant's backend subscribes to every merchant event (the fake endpoint accepts any POST to /fulfil).
        using (var subscribe = await api.PostAsJsonAsync("/v1/webhook-endpoints", new { url = merchant.Url.ToString(), event_types = new[] { "*" } }))
        {
            subscribe.EnsureSuccessStatusCode();
        }

        // With BENCH_SERVER_ENV="Clearflow__Diagnostics__ServerTiming=true": where each measured create-order waited.
        var createTimings = new System.Collections.Concurrent.ConcurrentBag<(double Db, double Http, double Total)>();
        var measuring = false; // the warm-up's requests are not kept
        // When each measured create-order started and how long it took: are the slow ones bunched (SlowBunches)?
        var createTimes = new System.Collections.Concurrent.ConcurrentQueue<(TimeSpan Started, TimeSpan Took)>();
        var measuredClock = new Stopwatch(); // runs from the start of the measured part
        async Task PayAsync(LongHistogram? createMicros)
        {
            var receipt = "b-" + Guid.NewGuid().ToString("N")[..24];
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders")
            {
                Content = JsonContent.Create(new { amount = 49900, currency = "INR", receipt, customer = new { id = "c-" + receipt, email = "c@example.com" } }),
            };
            request.Headers.Add("Idempotency-Key", receipt);
            var started = measuredClock.Elapsed;
            var watch = Stopwatch.StartNew();
            using var created = await api.SendAsync(request);
            var took = watch.Elapsed;
            var micros = (long)(took.TotalMilliseconds * 1000);
            created.EnsureSuccessStatusCode();
            createMicros?.RecordValue(Math.Min(micros, 60_000_000));
            if (Volatile.Read(ref measuring))
            {
                createTimes.Enqueue((started, took));
                if (created.Headers.TryGetValues("Server-Timing", out var timing))
                {
                    createTimings.Add(ServerTimingOf(string.Join(", ", timing)));
                }
            }
            var order = await created.Content.ReadFromJsonAsync<JsonElement>();
            var sandboxOrder = order.GetProperty("checkout").GetProperty("sandbox_order_id").GetString();
            using var complete = await sandbox.PostAsync($"/sandbox/checkout/{sandboxOrder}/complete",
                new StringContent("""{"outcome":"success"}""", Encoding.UTF8, "application/json"));
            complete.EnsureSuccessStatusCode();
        }

        // N customers paying one after another for a while; returns how many paid.
        async Task<int> CustomersAsync(TimeSpan duration, LongHistogram? histogram, double rate)
        {
            var paid = 0;
            var started = Stopwatch.StartNew();
            var slots = 0L;
            var deadline = DateTime.UtcNow + duration;
            await using var progress = new Timer(_ => Console.Error.WriteLine($"  {started.Elapsed.TotalSeconds,5:0} s: {Volatile.Read(ref paid)} paid by customers"), null, 5000, 5000);
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(async () =>
            {
                // One histogram per customer, merged at the end: a histogram is ~400 KB (a large object), so one per
                // payment would make the load generator itself the main source of full garbage collections.
                var local = new LongHistogram(60_000_000, 3);
                while (DateTime.UtcNow < deadline)
                {
                    if (rate > 0)
                    {
                        // Paced: payment n starts at n / rate seconds (an open schedule shared by all customers).
                        var due = TimeSpan.FromSeconds(Interlocked.Increment(ref slots) / rate) - started.Elapsed;
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due);
                        }
                    }
                    await PayAsync(local);
                    Interlocked.Increment(ref paid);
                }
                if (histogram is not null)
                {
                    lock (histogram)
                    {
                        histogram.Add(local);
                    }
                }
            })));
            return paid;
        }

        // The same load first, unmeasured: the server's JIT (tiered compilation, dynamic PGO) settles in the first
        // seconds under load, and a long-running server is measured, not a starting one.
        Console.Error.WriteLine($"Warming up: {settings.Concurrency} concurrent customers for {settings.Warmup.TotalSeconds:0} s ...");
        var warmedUp = await CustomersAsync(settings.Warmup, null, 0);
        await WaitForAsync(database, warmedUp, TimeSpan.FromMinutes(5));
        await using (var reset = new NpgsqlConnection(database))
        {
            await reset.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();", reset);
            await command.ExecuteNonQueryAsync();
        }

        Console.Error.WriteLine($"Load: {settings.Concurrency} concurrent customers for {settings.Duration.TotalSeconds:0} s ...");
        var histogram = new LongHistogram(60_000_000, 3);
        var serverCpuBefore = clearflow.CpuTime;
        var logLinesBefore = ClearflowProcess.OutputLines;
        var machineBefore = MachineCpu.Read();
        var postgresBefore = PostgresCpu.Read();
        var harnessBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var merchantRequestsBefore = merchant.Requests.Count;
        var measuredFrom = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(); // latencies of the measured payments only
        measuredClock.Start();
        Volatile.Write(ref measuring, true);
        var paid = await CustomersAsync(settings.Duration, histogram, settings.Rate);
        var total = warmedUp + paid;
        await WaitForAsync(database, total, TimeSpan.FromMinutes(5));
        var elapsed = measuredClock.Elapsed.TotalSeconds;
        var serverCpu = clearflow.CpuTime - serverCpuBefore;
        var machineCpu = MachineCpu.Read() - machineBefore;
        var postgresCpu = PostgresCpu.Read() - postgresBefore;
        var harnessCpu = Process.GetCurrentProcess().TotalProcessorTime - harnessBefore; // customers and merchant endpoint
        var merchantRequests = merchant.Requests.Count - merchantRequestsBefore;
        var logLines = ClearflowProcess.OutputLines - logLinesBefore;

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        async Task<T> ScalarAsync<T>(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
        }
        // The tables grew from empty during the run: without fresh statistics the planner may join the two below by a
        // nested loop over every row, which once ran past the command timeout and ended a run without its report.
        await using (var statistics = new NpgsqlCommand("ANALYZE inbox_events, pipeline_steps", connection))
        {
            await statistics.ExecuteNonQueryAsync();
        }
        // Webhook receipt (inbox) to the end of a pipeline step of the same order, per measured payment: p50 and p99.
        async Task<(double P50, double P99)> SinceWebhookAsync(string step, string outcome)
        {
            var lag = $"""
                SELECT s.ended_at - i.received_at FROM inbox_events i
                JOIN pipeline_steps s ON s.order_id = i.order_id AND s.step = '{step}' AND s.outcome = '{outcome}'
                WHERE i.source = 'webhook' AND i.received_at >= {measuredFrom}
                """;
            return (await ScalarAsync<double>($"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM ({lag}) AS x(d)"),
                await ScalarAsync<double>($"SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY d) FROM ({lag}) AS x(d)"));
        }
        var (p50, p99) = await SinceWebhookAsync("transition", "succeeded"); // to the committed final status
        var (fulfilledP50, fulfilledP99) = await SinceWebhookAsync("fulfil", "fulfilled"); // to the merchant's fulfilment
        // The fulfil step itself: the merchant's endpoint answering.
        var fulfilStepP50 = await ScalarAsync<double>($"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ended_at - started_at) FROM pipeline_steps WHERE step = 'fulfil' AND started_at >= {measuredFrom}");
        await using (var analyze = new NpgsqlCommand("ANALYZE", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }
        // Statements of the measured payments only (reset after the warm-up), without the benchmark's own queries.
        var clearflowStatements = $"""
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%' AND s.query NOT LIKE '%percentile_cont%'
              AND s.query <> '{WaitQuery.Replace("'", "''", StringComparison.Ordinal)}' AND s.query <> '{UnsentQuery.Replace("'", "''", StringComparison.Ordinal)}' AND s.query <> 'ANALYZE'
            """;
        var statements = await ScalarAsync<double>($"SELECT COALESCE(SUM(calls), 0) {clearflowStatements} AND upper(s.query) NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK')");
        // Committed transactions, explicit or single-statement (includes the benchmark's few polling queries).
        var transactions = await ScalarAsync<double>("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
        await using (var top = new NpgsqlCommand($"SELECT calls, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 150) {clearflowStatements} ORDER BY calls DESC LIMIT 40", connection))
        await using (var reader = await top.ExecuteReaderAsync())
        {
            Console.Error.WriteLine("Statements per payment (top 40 by calls):");
            while (await reader.ReadAsync())
            {
                Console.Error.WriteLine($"  {reader.GetInt64(0) / (double)paid,6:0.00}  {reader.GetString(1)}");
            }
        }
        // Where PostgreSQL's time goes: executing each statement, elapsed (planning is not tracked: tracking it costs
        // PostgreSQL time of its own). The rest of its CPU is the protocol, parsing, commits and autovacuum.
        var statementMs = await ScalarAsync<double>($"SELECT COALESCE(SUM(total_exec_time), 0) {clearflowStatements}");
        await using (var slow = new NpgsqlCommand($"SELECT calls, total_exec_time, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 130) {clearflowStatements} ORDER BY total_exec_time DESC LIMIT 15", connection))
        await using (var reader = await slow.ExecuteReaderAsync())
        {
            Console.Error.WriteLine("Statements by execution time (top 15): calls and ms per payment, statement:");
            while (await reader.ReadAsync())
            {
                Console.Error.WriteLine($"  {reader.GetInt64(0) / (double)paid,6:0.00}  {reader.GetDouble(1) / paid,6:0.000}  {reader.GetString(2)}");
            }
        }
        // Row versions written per table: an UPDATE that changes an indexed column (a queue's lease, a status in a
        // partial index's condition) cannot be HOT and writes an entry into every index of its table.
        await using (var tables = new NpgsqlCommand("""
            SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid)
            FROM pg_stat_user_tables s WHERE n_tup_ins + n_tup_upd > 0 ORDER BY n_tup_ins + n_tup_upd DESC
            """, connection))
        await using (var reader = await tables.ExecuteReaderAsync())
        {
            Console.Error.WriteLine("Rows written per payment: table, inserted, updated (of which HOT), indexes:");
            while (await reader.ReadAsync())
            {
                Console.Error.WriteLine($"  {reader.GetString(0),-24} {reader.GetInt64(1) / (double)paid,6:0.00} {reader.GetInt64(2) / (double)paid,6:0.00} ({reader.GetInt64(3) / (double)paid:0.00}) {reader.GetInt64(4),3}");
            }
        }
        if (!createTimings.IsEmpty)
        {
            static string Spread(IEnumerable<double> values)
            {
                var sorted = values.Order().ToArray();
                double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
                return FormattableString.Invariant($"p50 {At(0.5):0.0} / p95 {At(0.95):0.0} / p99 {At(0.99):0.0} ms");
            }
            Console.Error.WriteLine("Create-order in the server (Server-Timing), each part on its own:");
            Console.Error.WriteLine($"  waiting on PostgreSQL:        {Spread(createTimings.Select(t => t.Db))}");
            Console.Error.WriteLine($"  waiting on the gateway (HTTP): {Spread(createTimings.Select(t => t.Http))}");
            Console.Error.WriteLine($"  the rest of the request:      {Spread(createTimings.Select(t => t.Total - t.Db - t.Http))}");
            Console.Error.WriteLine($"  the whole request:            {Spread(createTimings.Select(t => t.Total))}");
        }
        Console.Error.WriteLine($"Create-orders slower than p95, over time: {SlowBunches.Describe(createTimes)}");
        var rows = await ScalarAsync<double>("SELECT COALESCE(SUM(n_live_tup), 0) FROM pg_stat_user_tables");
        var bytes = await ScalarAsync<double>("SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0) FROM pg_stat_user_tables");
        return new ClearflowFigures(paid, paid / elapsed, histogram, p50, p99, clearflow.PeakMemoryBytes, rows / total, bytes / total,
            statements / paid, transactions / paid, fulfilledP50, fulfilledP99, fulfilStepP50,
            serverCpu.TotalMilliseconds / paid, machineCpu.TotalMilliseconds / paid, (double)merchantRequests / paid,
            (double)logLines / paid, postgresCpu.TotalMilliseconds / paid, harnessCpu.TotalMilliseconds / paid, statementMs / paid);
    }

    /// <summary>The <c>db</c>, <c>http</c> and <c>total</c> durations (ms) of a <c>Server-Timing</c> header.</summary>
    private static (double Db, double Http, double Total) ServerTimingOf(string header)
    {
        double Duration(string name)
        {
            var part = header.Split(',', StringSplitOptions.TrimEntries).FirstOrDefault(p => p.StartsWith(name + ";", StringComparison.Ordinal));
            var duration = part?.Split(';').FirstOrDefault(p => p.StartsWith("dur=", StringComparison.Ordinal));
            return duration is null ? 0 : double.Parse(duration["dur=".Length..], CultureInfo.InvariantCulture);
        }
        return (Duration("db"), Duration("http"), Duration("total"));
    }

    /// <summary>Waits until <paramref name="count"/> payments are fulfilled and every notification is sent.</summary>
    private static async Task WaitForAsync(string database, int count, TimeSpan timeout)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        var until = DateTime.UtcNow + timeout;
        var nextReport = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < until)
        {
            await using var command = new NpgsqlCommand(WaitQuery, connection);
            var done = (long)(await command.ExecuteScalarAsync())!;
            if (done >= count)
            {
                await using var unsent = new NpgsqlCommand(UnsentQuery, connection);
                if ((long)(await unsent.ExecuteScalarAsync())! == 0)
                {
                    return;
                }
            }
            if (DateTime.UtcNow >= nextReport)
            {
                Console.Error.WriteLine($"  {done} of {count} fulfilled");
                nextReport = DateTime.UtcNow.AddSeconds(5);
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Not all {count} payments were fulfilled within {timeout}.");
    }

    private sealed record PgbenchFigures(double PaymentsPerSecond, double MachineCpuMsPerPayment);

    private static async Task<PgbenchFigures> RunPgbenchAsync(PostgresServer server, Settings settings)
    {
        var database = await server.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                CREATE TABLE bench_orders (id bigint PRIMARY KEY, status text NOT NULL, amount bigint NOT NULL, amount_paid bigint NOT NULL DEFAULT 0, created_at timestamptz NOT NULL);
                CREATE TABLE bench_ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL, account text NOT NULL, amount bigint NOT NULL);
                CREATE TABLE bench_outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL, topic text NOT NULL, payload text NOT NULL);
                """, connection);
            await command.ExecuteNonQueryAsync();
        }
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        var script = Path.Combine(Path.GetTempPath(), $"clearflow-payment-{Guid.NewGuid():N}.sql");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "payment.pgbench.sql"), script);
        if (!OperatingSystem.IsWindows())
        {
            // pgbench runs as the postgres user: it must be able to read the script.
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.UserWrite);
        }
        Console.Error.WriteLine($"pgbench: {settings.Concurrency} clients for {settings.PgbenchDuration.TotalSeconds:0} s ...");
        try
        {
            var machineBefore = MachineCpu.Read();
            var output = await server.RunToolAsync("pgbench",
                $"-n -c {settings.Concurrency} -j 2 -T {(int)settings.PgbenchDuration.TotalSeconds} -f {script} {name}");
            var machineCpu = MachineCpu.Read() - machineBefore;
            var lines = output.Split('\n');
            var tps = lines.First(l => l.StartsWith("tps = ", StringComparison.Ordinal));
            var processed = lines.First(l => l.StartsWith("number of transactions actually processed: ", StringComparison.Ordinal));
            var payments = double.Parse(processed["number of transactions actually processed: ".Length..].Split('/')[0], CultureInfo.InvariantCulture);
            return new PgbenchFigures(double.Parse(tps["tps = ".Length..].Split(' ')[0], CultureInfo.InvariantCulture), machineCpu.TotalMilliseconds / payments);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static string Report(Settings settings, ClearflowFigures c, PgbenchFigures pgbench)
    {
        var limit = pgbench.PaymentsPerSecond;
        double Ms(double percentile) => c.CreateMicros.GetValueAtPercentile(percentile) / 1000.0;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"End to end, {settings.Concurrency} concurrent customers{(settings.Rate > 0 ? $" paced to {settings.Rate:0} payments/s" : "")}, {settings.Duration.TotalSeconds:0} s after {settings.Warmup.TotalSeconds:0} s of warm-up, PostgreSQL on this machine:");
        report.AppendLine();
        report.AppendLine("| measure | value |");
        report.AppendLine("|---|---:|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| payments completed (paid, processed, fulfilled, merchant notified) | {c.Payments:N0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| payments per second | {c.PaymentsPerSecond:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| create-order latency p50 / p95 / p99 / max (ms) | {Ms(50):0.0} / {Ms(95):0.0} / {Ms(99):0.0} / {c.CreateMicros.GetMaxValue() / 1000.0:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| webhook received to final status p50 / p99 (ms) | {c.WebhookToFinalP50Ms:0.0} / {c.WebhookToFinalP99Ms:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| webhook received to fulfilled p50 / p99 (ms); fulfil step p50 (ms) | {c.WebhookToFulfilledP50Ms:0.0} / {c.WebhookToFulfilledP99Ms:0.0}; {c.FulfilStepP50Ms:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| server peak memory, resident (MB) | {c.PeakMemoryBytes / 1024.0 / 1024.0:0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| CPU per payment: clearflow process / whole machine (ms) | {c.ServerCpuMsPerPayment:0.0} / {c.MachineCpuMsPerPayment:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| of the machine's: PostgreSQL / this benchmark's customers and merchant endpoint / the rest (ms) | {c.PostgresCpuMsPerPayment:0.0} / {c.HarnessCpuMsPerPayment:0.0} / {c.MachineCpuMsPerPayment - c.ServerCpuMsPerPayment - c.PostgresCpuMsPerPayment - c.HarnessCpuMsPerPayment:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| PostgreSQL executing statements, elapsed, per payment (ms) | {c.StatementMsPerPayment:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| server log lines per payment (shipped log levels) | {c.LogLinesPerPayment:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| requests to the merchant per payment (fulfilment + webhooks) | {c.MerchantRequestsPerPayment:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| database rows / bytes per payment | {c.RowsPerPayment:0.0} / {c.BytesPerPayment:N0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| SQL statements / transactions per payment | {c.StatementsPerPayment:0.0} / {c.TransactionsPerPayment:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| pgbench minimal payment (tps, {settings.Concurrency} clients) | {limit:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| pgbench CPU per payment, whole machine (ms) | {pgbench.MachineCpuMsPerPayment:0.00} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Clearflow as a share of that limit | {c.PaymentsPerSecond / limit:P0} |");
        return report.ToString();
    }
}
