using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Clearflow.TestSupport;

/// <summary>
/// A merchant's fulfilment endpoint on loopback: records every request it gets (headers and body as
/// sent) and answers with the next scripted status code (200 when the script is empty).
/// </summary>
public sealed class FakeMerchantEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _script = new();

    public sealed record Received(string? WebhookId, string? Timestamp, string? Signature, string Body);

    public ConcurrentQueue<Received> Requests { get; } = new();

    public Uri Url { get; private set; } = null!;

    /// <summary>Runs for each request after it is recorded and before it is answered (to act while the sender waits).</summary>
    public Func<Task>? BeforeAnswer { get; set; }

    /// <summary>The text every answer carries (none when null).</summary>
    public string? AnswerBody { get; set; }

    private FakeMerchantEndpoint(WebApplication app) => _app = app;

    public static async Task<FakeMerchantEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var endpoint = new FakeMerchantEndpoint(app);
        app.MapPost("/fulfil", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            endpoint.Requests.Enqueue(new Received(request.Headers["webhook-id"], request.Headers["webhook-timestamp"], request.Headers["webhook-signature"],
                await reader.ReadToEndAsync()));
            if (endpoint.BeforeAnswer is { } before)
            {
                await before();
            }
            var status = endpoint._script.TryDequeue(out var scripted) ? scripted : 200;
            return endpoint.AnswerBody is { } body ? Results.Text(body, "text/plain; charset=utf-8", statusCode: status) : Results.StatusCode(status);
        });
        await app.StartAsync();
        endpoint.Url = new Uri(new Uri(app.Urls.First()), "/fulfil");
        return endpoint;
    }

    /// <summary>The next answers, in order; after them, 200.</summary>
    public void Answer(params int[] statusCodes)
    {
        foreach (var code in statusCodes)
        {
            _script.Enqueue(code);
        }
    }

    /// <summary>Forgets the scripted answers: from now on, 200.</summary>
    public void AnswerOk() => _script.Clear();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
