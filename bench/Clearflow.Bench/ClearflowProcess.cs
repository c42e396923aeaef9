using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;

namespace Clearflow.Bench;

/// <summary>
/// The real <c>clearflow</c> program in its own process, configured as an operator would (its shipped
/// appsettings, plus the database, a data folder, a loopback port and permission to call loopback merchant
/// endpoints), so the benchmark measures the server alone: its memory and CPU are not mixed with the load
/// generator's. Killed with its whole process tree when disposed.
/// </summary>
public sealed partial class ClearflowProcess : IAsyncDisposable
{
    private static long _outputLines;

    /// <summary>Lines the server has written to its console (its log) so far.</summary>
    public static long OutputLines => Interlocked.Read(ref _outputLines);

    private readonly Process _process;
    private readonly string _dataDirectory;

    private ClearflowProcess(Process process, string dataDirectory, Uri baseAddress, string secretKey)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        SecretKey = secretKey;
    }

    public Uri BaseAddress { get; }

    /// <summary>The demo merchant's test secret key, as the server announces it on start.</summary>
    public string SecretKey { get; }

    /// <summary>The most resident memory the server process has had (VmHWM), in bytes.</summary>
    public long PeakMemoryBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>CPU time the server process has used so far (all its threads, user and kernel).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>
    /// The test support's connection strings close pooled connections idle for 15 s and cap the pool at 50 (the
    /// tests create many databases on one server). The server gets Npgsql's pool as shipped instead: with the test
    /// settings it dropped and reopened about one connection a second under paced load, and a request that has to
    /// wait for a new PostgreSQL backend lands in the latency tail, which a deployment would not see.
    /// </summary>
    private static string WithShippedPool(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(database);
        builder.Remove("Connection Idle Lifetime");
        builder.Remove("Connection Pruning Interval");
        builder.Remove("Maximum Pool Size");
        return builder.ConnectionString;
    }

    public static async Task<ClearflowProcess> StartAsync(string database)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "clearflow.dll");
        var dataDirectory = Path.Combine(Path.GetTempPath(), "clearflow-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDirectory);
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}/");
        var start = new ProcessStartInfo("dotnet", $"\"{program}\" serve")
        {
            WorkingDirectory = AppContext.BaseDirectory, // where the shipped appsettings.json is
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Urls"] = baseAddress.ToString().TrimEnd('/');
        start.Environment["Clearflow__Database"] = WithShippedPool(database);
        start.Environment["Clearflow__DataDirectory"] = dataDirectory;
        // The benchmark's merchant endpoint is on loopback; production refuses internal addresses (SSRF guard).
        start.Environment["Clearflow__Notifications__AllowPrivateTargets"] = "true";
        // For comparing runtime settings without a rebuild: BENCH_SERVER_ENV="NAME=value;NAME2=value2".
        foreach (var setting in (Environment.GetEnvironmentVariable("BENCH_SERVER_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = setting.Split('=', 2);
            start.Environment[parts[0]] = parts.Length == 2 ? parts[1] : throw new ArgumentException($"BENCH_SERVER_ENV: '{setting}' is not NAME=value.");
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start clearflow.");

        var announced = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var show = Environment.GetEnvironmentVariable("CLEARFLOW_BENCH_SHOW_SERVER_LOG") == "1";
        void Read(string? line)
        {
            if (line is null)
            {
                return;
            }
            if (show)
            {
                Console.Error.WriteLine("[clearflow] " + line);
            }
            Interlocked.Increment(ref _outputLines);
            if (output.Count < 200)
            {
                output.Enqueue(line); // the first lines, for the error message if it does not start
            }
            if (DemoKey().Match(line) is { Success: true } match)
            {
                announced.TrySetResult(match.Groups[1].Value);
            }
        }
        // Drained all the time: a full pipe would block the server's console logging.
        process.OutputDataReceived += (_, e) => Read(e.Data);
        process.ErrorDataReceived += (_, e) => Read(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            var key = await announced.Task.WaitAsync(timeout.Token);
            await WaitUntilListeningAsync(baseAddress, timeout.Token);
            return new ClearflowProcess(process, dataDirectory, baseAddress, key);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("clearflow did not start within 90 s. Its output:\n" + string.Join('\n', output));
        }
    }

    private static async Task WaitUntilListeningAsync(Uri baseAddress, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = baseAddress };
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/healthz", cancellationToken);
                return; // any answer: Kestrel is listening
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"test secret key: (sk_test_\S+)")]
    private static partial Regex DemoKey();
}

/// <summary>Busy CPU time of the whole machine (all cores, all processes), from /proc/stat.</summary>
public static class MachineCpu
{
    public static TimeSpan Read()
    {
        // "cpu  user nice system idle iowait irq softirq steal ..." in clock ticks (USER_HZ, 100 per second on Linux).
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var busy = fields.Sum() - fields[3] - fields[4];
        return TimeSpan.FromMilliseconds(busy * 10);
    }
}

/// <summary>
/// CPU time of every PostgreSQL process on the machine (the benchmark's is the only one running): each live
/// process's own time, plus what exited backends used, which the kernel adds to their parent's (the
/// postmaster's) children's time once it has waited for them.
/// </summary>
public static class PostgresCpu
{
    public static TimeSpan Read()
    {
        long ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out _))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue; // the process ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            // "pid (comm) state ppid ... utime stime cutime cstime ...": fields 14-17, counted after the name,
            // which may itself hold spaces and parentheses.
            var close = stat.LastIndexOf(')');
            if (close < 0 || !stat.AsSpan(0, close).EndsWith("(postgres", StringComparison.Ordinal))
            {
                continue;
            }
            var fields = stat[(close + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }
        return TimeSpan.FromMilliseconds(ticks * 10); // USER_HZ: 100 per second on Linux
    }
}
