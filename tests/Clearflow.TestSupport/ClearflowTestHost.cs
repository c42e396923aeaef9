using System.Net.Http.Headers;
using Clearflow.Application.Abstractions;
using Clearflow.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Clearflow.TestSupport;

/// <summary>
/// The real Clearflow host (same composition as <c>Program</c>) on a free loopback port, against a real
/// store. Tests talk to it over real HTTP, and so does the sandbox gateway it hosts.
/// </summary>
public sealed class ClearflowTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private ClearflowTestHost(WebApplication app, string dataDirectory, Uri baseAddress, string demoKey)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        DemoSecretKey = demoKey;
    }

    public Uri BaseAddress { get; }

    /// <summary>The demo merchant's secret key (a merchant that exists in every test host).</summary>
    public string DemoSecretKey { get; }

    public IServiceProvider Services => _app.Services;

    public IClearflowStore Store => _app.Services.GetRequiredService<IClearflowStore>();

    /// <param name="database">Connection string; null for a fresh SQLite file.</param>
    /// <param name="configureServices">Replacements for this host only (e.g. a gated gateway).</param>
    public static async Task<ClearflowTestHost> StartAsync(string? database = null, Action<IServiceCollection>? configureServices = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var dataDirectory = TempDirectory.Create("clearflow-host");
        var values = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Clearflow:DataDirectory"] = dataDirectory,
            ["Clearflow:Database"] = database ?? $"Data Source={Path.Combine(dataDirectory, "clearflow.db")}",
            // The suite's merchant endpoints run on loopback; production refuses internal addresses (SSRF).
            ["Clearflow:Notifications:AllowPrivateTargets"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.Authentication"] = "Error",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        // No file watcher on appsettings.json: a run starts many hosts, and each watcher takes one of the user's
        // inotify instances (128 by default on Linux), which a full run used up.
        var app = ClearflowHost.Build(["--hostBuilder:reloadConfigOnChange=false"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(new UnhandledErrorLog());
            configureServices?.Invoke(builder.Services);
        });
        await StartupTasks.PrepareAsync(app.Services, announceDemoKey: false, CancellationToken.None);
        await app.StartAsync();
        var address = new Uri(app.Urls.First());
        var demoKey = app.Services.GetRequiredService<DemoMerchantContext>().SecretKey!;
        return new ClearflowTestHost(app, dataDirectory, address, demoKey);
    }

    /// <summary>A client for the API, authenticated as <paramref name="bearer"/> (the demo key when null).</summary>
    public HttpClient CreateClient(string? bearer = null, bool authenticate = true)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (authenticate)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer ?? DemoSecretKey);
        }
        return client;
    }

    private bool _disposed;

    /// <summary>Stops the host (as a crash or shutdown would); safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
