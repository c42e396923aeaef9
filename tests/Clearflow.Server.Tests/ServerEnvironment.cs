using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>
/// One PostgreSQL server and one Clearflow host per store, shared by the end-to-end tests (tests use
/// their own receipts and orders, so they do not see each other). Extra hosts can be started for
/// tests that need their own composition.
/// </summary>
public sealed class ServerEnvironment : IAsyncLifetime
{
    private readonly Dictionary<StoreKind, Task<ClearflowTestHost>> _hosts = [];
    private readonly List<ClearflowTestHost> _extraHosts = [];
    private readonly Lock _lock = new();

    public PostgresServer Postgres { get; } = new();

    public Task InitializeAsync() => Postgres.InitializeAsync();

    public Task<ClearflowTestHost> HostAsync(StoreKind kind)
    {
        lock (_lock)
        {
            if (!_hosts.TryGetValue(kind, out var host))
            {
                host = _hosts[kind] = StartHostAsync(kind, null);
            }
            return host;
        }
    }

    /// <summary>A separate host on a fresh database, disposed when the test ends (see <see cref="ServerTest"/>).</summary>
    public async Task<ClearflowTestHost> StartExtraHostAsync(StoreKind kind, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        await StartOnDatabaseAsync(await NewDatabaseAsync(kind), services, settings);

    /// <summary>A fresh, empty database of the given kind (a SQLite file that outlives any one host).</summary>
    public async Task<string> NewDatabaseAsync(StoreKind kind) => kind == StoreKind.Postgres
        ? await Postgres.CreateDatabaseAsync()
        : $"Data Source={Path.Combine(TempDirectory.Create("clearflow-db"), "clearflow.db")}";

    /// <summary>A host on an existing database: several hosts on one database are several nodes.</summary>
    public async Task<ClearflowTestHost> StartOnDatabaseAsync(string database, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var host = await ClearflowTestHost.StartAsync(database, services, settings);
        lock (_lock)
        {
            _extraHosts.Add(host);
        }
        return host;
    }

    /// <summary>Stops the extra hosts started so far (the tests of the collection run one at a time, so these are the ending test's).</summary>
    public async Task DisposeExtraHostsAsync()
    {
        List<ClearflowTestHost> hosts;
        lock (_lock)
        {
            hosts = [.. _extraHosts];
            _extraHosts.Clear();
        }
        var failures = new List<Exception>();
        foreach (var host in hosts)
        {
            try
            {
                await host.DisposeAsync();
            }
            catch (Exception ex)
            {
                failures.Add(ex); // the others are stopped all the same
            }
        }
        if (failures.Count > 0)
        {
            throw new AggregateException("Stopping the test's extra hosts failed.", failures);
        }
    }

    private async Task<ClearflowTestHost> StartHostAsync(StoreKind kind, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services) =>
        await ClearflowTestHost.StartAsync(kind == StoreKind.Postgres ? await Postgres.CreateDatabaseAsync() : null, services);

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values)
        {
            await (await host).DisposeAsync();
        }
        await DisposeExtraHostsAsync();
        await Postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerEnvironment>
{
    public const string Name = "server";
}

/// <summary>
/// A test class of the server collection that may start extra hosts: they are stopped when each test ends. Left
/// running until the whole collection ends, every one kept its workers polling and its file watchers open, and
/// the late tests of a run shared the two cores with dozens of idle servers.
/// </summary>
public abstract class ServerTest(ServerEnvironment environment) : IAsyncLifetime
{
    protected ServerEnvironment Environment => environment;

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => environment.DisposeExtraHostsAsync();
}
