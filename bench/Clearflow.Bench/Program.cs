using System.Globalization;
using Clearflow.Bench;
using Clearflow.TestSupport;

// Usage: dotnet run -c Release --project bench/Clearflow.Bench -- claim-due [--final N] [--due N] [--batch N] [--claims N] [--store postgresql|sqlite|both]
//        dotnet run -c Release --project bench/Clearflow.Bench -- e2e [--concurrency 16] [--seconds 30] [--pgbench-seconds 15] [--warmup-seconds 60] [--rate 0 (payments/s; 0: unpaced)]
//        dotnet run -c Release --project bench/Clearflow.Bench -- all   (e2e, then claim-due on PostgreSQL)
// Starts its own throwaway PostgreSQL server (as the tests do) and a temporary SQLite file; touches nothing else.
int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length
    ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
if (args.Length > 0 && args[0] == "all")
{
    // Everything, one table after another: the end-to-end run and its pgbench limit, then poller scale.
    args = ["e2e", .. args[1..]];
    Console.WriteLine(await EndToEndBenchmark.RunAsync(new EndToEndBenchmark.Settings(
        Option("--concurrency", 16), TimeSpan.FromSeconds(Option("--seconds", 30)), TimeSpan.FromSeconds(Option("--pgbench-seconds", 15)), TimeSpan.FromSeconds(Option("--warmup-seconds", 60)), Option("--rate", 0))));
    args = ["claim-due", "--store", "postgresql"];
}
else if (args.Length > 0 && args[0] == "e2e")
{
    Console.WriteLine(await EndToEndBenchmark.RunAsync(new EndToEndBenchmark.Settings(
        Option("--concurrency", 16), TimeSpan.FromSeconds(Option("--seconds", 30)), TimeSpan.FromSeconds(Option("--pgbench-seconds", 15)), TimeSpan.FromSeconds(Option("--warmup-seconds", 60)), Option("--rate", 0))));
    return 0;
}
if (args.Length == 0 || args[0] != "claim-due")
{
    Console.Error.WriteLine("Usage: clearflow-bench claim-due [--final 1000000] [--due 10000] [--batch 100] [--claims 50] [--store both]");
    Console.Error.WriteLine("       clearflow-bench e2e [--concurrency 16] [--seconds 30] [--pgbench-seconds 15] [--warmup-seconds 60] [--rate 0 (payments/s; 0: unpaced)]");
    return 2;
}
var storeArg = Array.IndexOf(args, "--store") is var s and >= 0 && s + 1 < args.Length ? args[s + 1] : "both";
var final = Option("--final", 1_000_000);
var due = Option("--due", 10_000);
var batch = Option("--batch", 100);
var claims = Option("--claims", 50);

var results = new List<ClaimDueChecksBenchmark.Result>();
if (storeArg is "both" or "postgresql")
{
    var server = new PostgresServer();
    await server.InitializeAsync();
    try
    {
        results.Add(await ClaimDueChecksBenchmark.RunAsync("postgresql", await server.CreateDatabaseAsync(), final, due, batch, claims));
    }
    finally
    {
        await server.DisposeAsync();
    }
}
if (storeArg is "both" or "sqlite")
{
    var folder = TempDirectory.Create("clearflow-bench");
    try
    {
        results.Add(await ClaimDueChecksBenchmark.RunAsync("sqlite", $"Data Source={Path.Combine(folder, "bench.db")}", final, due, batch, claims));
    }
    finally
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

Console.WriteLine("| store | final orders | due orders | batch | claims | median ms | p95 ms | max ms |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in results)
{
    Console.WriteLine(FormattableString.Invariant($"| {r.Store} | {r.FinalOrders:N0} | {r.DueOrders:N0} | {r.BatchSize} | {r.Claims} | {r.MedianMs:0.00} | {r.P95Ms:0.00} | {r.MaxMs:0.00} |"));
}
foreach (var r in results)
{
    Console.WriteLine();
    Console.WriteLine($"Plan ({r.Store}):");
    Console.WriteLine("```");
    Console.WriteLine(r.Plan);
    Console.WriteLine("```");
}
return 0;
