using System.Diagnostics;
using System.Globalization;

namespace Clearflow.Server.Http;

/// <summary>
/// Opt-in diagnostics (<c>Clearflow:Diagnostics:ServerTiming</c>, off by default): every response carries a
/// <c>Server-Timing</c> header saying how long its request waited on the database and on outgoing HTTP calls (a
/// gateway), and how long it took in all, so a slow request can be told apart by where it waited. The waits are the
/// durations of Npgsql's and HttpClient's own activities started on the request's flow; they are only created while
/// this is on, and cost a little on every command, so it stays off in production unless someone is looking.
/// </summary>
public static class ServerTiming
{
    public const string Setting = "Clearflow:Diagnostics:ServerTiming";

    /// <summary>The waits of the request whose flow this is (null outside a timed request).</summary>
    private static readonly AsyncLocal<Waits?> Current = new();

    private sealed class Waits
    {
        public long DatabaseTicks;
        public int DatabaseCommands;
        public long HttpTicks;
        public int HttpCalls;
    }

    /// <summary>One per process, whatever the number of hosts in it (tests start several): two would count every wait twice.</summary>
    private static readonly Lazy<ActivityListener> Listener = new(() =>
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or "System.Net.Http",
            // Activities are made only for work done on a timed request's flow.
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => Current.Value is null ? ActivitySamplingResult.None : ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (Current.Value is not { } waits)
                {
                    return;
                }
                if (activity.Source.Name == "Npgsql")
                {
                    // Opening a new physical connection is a wait on the database too, but not a command.
                    Interlocked.Add(ref waits.DatabaseTicks, activity.Duration.Ticks);
                    if (!activity.OperationName.StartsWith("CONNECT", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref waits.DatabaseCommands);
                    }
                }
                else
                {
                    Interlocked.Add(ref waits.HttpTicks, activity.Duration.Ticks);
                    Interlocked.Increment(ref waits.HttpCalls);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    });

    public static IApplicationBuilder UseServerTiming(this IApplicationBuilder app, IConfiguration configuration)
    {
        if (!configuration.GetValue<bool>(Setting))
        {
            return app;
        }
        _ = Listener.Value;
        return app.Use(async (context, next) =>
        {
            var waits = new Waits();
            Current.Value = waits;
            var started = Stopwatch.GetTimestamp();
            context.Response.OnStarting(() =>
            {
                static string Ms(long ticks) => TimeSpan.FromTicks(ticks).TotalMilliseconds.ToString("0.0##", CultureInfo.InvariantCulture);
                context.Response.Headers.Append("Server-Timing",
                    $"db;dur={Ms(Interlocked.Read(ref waits.DatabaseTicks))};desc=\"{Volatile.Read(ref waits.DatabaseCommands)} commands\", " +
                    $"http;dur={Ms(Interlocked.Read(ref waits.HttpTicks))};desc=\"{Volatile.Read(ref waits.HttpCalls)} calls\", " +
                    $"total;dur={Ms(Stopwatch.GetElapsedTime(started).Ticks)}");
                return Task.CompletedTask;
            });
            await next(context);
        });
    }
}
