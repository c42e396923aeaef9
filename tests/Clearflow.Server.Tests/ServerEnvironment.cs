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

    /// <summary>A separate host on a fresh database, disposed with the environment.</summary>
    public async Task<ClearflowTestHost> StartExtraHostAsync(StoreKind kind, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services)
    {
        var host = await StartHostAsync(kind, services);
        lock (_lock)
        {
            _extraHosts.Add(host);
        }
        return host;
    }

    private async Task<ClearflowTestHost> StartHostAsync(StoreKind kind, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services) =>
        await ClearflowTestHost.StartAsync(kind == StoreKind.Postgres ? await Postgres.CreateDatabaseAsync() : null, services);

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values)
        {
            await (await host).DisposeAsync();
        }
        foreach (var host in _extraHosts)
        {
            await host.DisposeAsync();
        }
        await Postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerEnvironment>
{
    public const string Name = "server";
}
