using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Clearflow.TestSupport;

/// <summary>
/// A throwaway PostgreSQL server for the test run: initdb in a temp folder, started on a free
/// loopback port, each test class getting its own fresh database, stopped and deleted at the end.
/// The server refuses to run as root, so as root it runs as the <c>postgres</c> user.
/// Speed settings (fsync off) are for tests only.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string _root = "";
    private string _dataDirectory = "";
    private string _binDirectory = "";
    private int _port;

    /// <summary>More server settings (<c>-c name=value ...</c>) for this server, e.g. a benchmark's statement statistics.</summary>
    public string ExtraOptions { get; init; } = "";

    public async Task InitializeAsync()
    {
        _binDirectory = FindBinDirectory();
        _root = Path.Combine(Path.GetTempPath(), "clearflow-pg-" + Guid.NewGuid().ToString("N")[..12]);
        _dataDirectory = Path.Combine(_root, "data");
        Directory.CreateDirectory(_root);
        if (IsRoot)
        {
            await RunAsync("chown", $"postgres:postgres {_root}");
        }
        await RunAsPostgresAsync(Path.Combine(_binDirectory, "initdb"), $"-D {_dataDirectory} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync");
        _port = FreePort();
        // Many test hosts (each with its own pool, several webhooks and workers at once) share this one server:
        // room for 1,000 connections, and pooled connections idle for 15 s are closed (ConnectionString).
        var options = $"-p {_port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000 {ExtraOptions}";
        await RunAsPostgresAsync(Path.Combine(_binDirectory, "pg_ctl"), $"start -w -t 60 -D {_dataDirectory} -l {Path.Combine(_root, "server.log")} -o \"{options}\"");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
    }

    public Task DisposeAsync()
    {
        Stop();
        return Task.CompletedTask;
    }

    /// <summary>Runs one of the server's client tools (pgbench, psql) against this server, as the postgres user; returns its output.</summary>
    public Task<string> RunToolAsync(string tool, string arguments) =>
        RunAsPostgresAsync(Path.Combine(_binDirectory, tool), $"-h 127.0.0.1 -p {_port} -U postgres {arguments}");

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    private string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={_port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=50;Timeout=30;Connection Idle Lifetime=15;Connection Pruning Interval=5";

    private void Stop()
    {
        if (_dataDirectory.Length == 0 || !Directory.Exists(_dataDirectory))
        {
            return;
        }
        try
        {
            RunAsPostgresAsync(Path.Combine(_binDirectory, "pg_ctl"), $"stop -m immediate -D {_dataDirectory}").GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        _dataDirectory = "";
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string FindBinDirectory()
    {
        if (Environment.GetEnvironmentVariable("CLEARFLOW_PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. Run ./test.sh (it installs them) or set CLEARFLOW_PG_BIN.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task<string> RunAsPostgresAsync(string program, string arguments) =>
        IsRoot ? RunAsync("runuser", $"-u postgres -- {program} {arguments}") : RunAsync(program, arguments);

    private static async Task<string> RunAsync(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        }) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
        return await stdout;
    }
}
