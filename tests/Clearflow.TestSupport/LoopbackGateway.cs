using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Clearflow.TestSupport;

/// <summary>
/// The server side every loopback gateway fake shares: the minimal ASP.NET Core app on <c>127.0.0.1:0</c>, the
/// request log, and the admission gate that plays an outage (<see cref="Unreachable"/>) and injected failures
/// (<see cref="FailNextRequests"/>) before the gateway's own routes see a request.
/// </summary>
/// <remarks>
/// A helper held by each fake rather than a base class: the fakes are public and their base would have to be
/// public too, which would widen the surface tests see. It guards its state with the fake's own lock, so the
/// request log, the failure counter and the fake's protocol state move together, as they did in each fake.
/// </remarks>
internal sealed class LoopbackGateway : IAsyncDisposable
{
    /// <summary>Shared because webhook deliveries are short and many fakes may run in one test process.</summary>
    public static readonly HttpClient Webhooks = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly Lock _gate;
    private readonly List<(string Method, string Path, string? Key)> _requests = [];
    private WebApplication? _app;
    private int _failCount;
    private int _failStatus = 500;
    private volatile bool _unreachable;

    /// <param name="gate">The fake's lock, which guards every piece of its mutable state; never held across an await.</param>
    public LoopbackGateway(Lock gate) => _gate = gate;

    /// <summary>Root of the fake, ending in a slash so relative URIs resolve under it.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>When true, every request is recorded and then its connection is reset, as in an outage.</summary>
    public bool Unreachable
    {
        get => _unreachable;
        set => _unreachable = value;
    }

    /// <summary>Every request received (including refused and aborted ones), in arrival order, with the key the fake chose to log.</summary>
    public IReadOnlyList<(string Method, string Path, string? Key)> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>The next <paramref name="count"/> admitted requests are refused with <paramref name="statusCode"/>.</summary>
    public void FailNextRequests(int count, int statusCode)
    {
        lock (_gate)
        {
            _failCount = Math.Max(0, count);
            _failStatus = statusCode;
        }
    }

    /// <summary>
    /// Starts the app on a free loopback port with <paramref name="admit"/> in front of every request (a request
    /// goes on to the routes only when it returns true) and the routes <paramref name="map"/> adds.
    /// </summary>
    public async Task StartAsync(Func<HttpContext, Task<bool>> admit, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        _app = app;
        app.Use(async (HttpContext context, RequestDelegate next) =>
        {
            if (await admit(context))
            {
                await next(context);
            }
        });
        map(app);
        await app.StartAsync();
        BaseAddress = new Uri(new Uri(app.Urls.First()), "/");
    }

    /// <summary>
    /// Records the request under <paramref name="key"/>, then plays the gates in the order gateways do: an outage
    /// resets the connection; otherwise <paramref name="authenticate"/> may refuse, and only an authenticated
    /// request uses up an injected failure (<paramref name="injected"/> builds its reply from the status).
    /// </summary>
    /// <returns>True when the request may go on to the routes; false when it was answered or aborted here.</returns>
    public async Task<bool> AdmitAsync<TReply>(HttpContext context, string? key, Func<TReply?> authenticate, Func<int, TReply> injected,
        Func<HttpContext, TReply, Task> write)
        where TReply : class
    {
        var request = context.Request;
        TReply? refusal = null;
        var unreachable = _unreachable;
        lock (_gate)
        {
            _requests.Add((request.Method, request.Path.Value ?? "/", key));
            if (!unreachable)
            {
                refusal = authenticate();
                if (refusal is null && _failCount > 0)
                {
                    _failCount--;
                    refusal = injected(_failStatus);
                }
            }
        }
        if (unreachable)
        {
            context.Abort();
            return false;
        }
        if (refusal is not null)
        {
            await write(context, refusal);
            return false;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>A JSON object as a detached <see cref="JsonElement"/>, written as the wire would write it.</summary>
    public static JsonElement ToElement(JsonObject json, JsonSerializerOptions wire)
    {
        using var document = JsonDocument.Parse(json.ToJsonString(wire));
        return document.RootElement.Clone();
    }

    /// <summary>Seconds since the Unix epoch, the timestamp most gateways stamp objects and events with.</summary>
    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The HTTP status of one sent request, or 0 when the target did not answer (refused, reset or timed out).</summary>
    public static async Task<int> StatusOfAsync(HttpClient client, HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            using var response = await client.SendAsync(request);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException)
        {
            return 0;
        }
    }
}
