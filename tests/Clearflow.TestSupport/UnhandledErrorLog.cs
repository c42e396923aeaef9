using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clearflow.TestSupport;

/// <summary>
/// Appends the server's unhandled request errors (the 500s), with their exception, to <see cref="FilePath"/>, and
/// the background workers' warnings and errors (a failed round, an inbox event or task that threw) to
/// <see cref="WorkerFilePath"/>; test.sh prints both when a run fails: a test that sees an unexpected 500, or waits
/// in vain for a payment the workers failed to move, leaves its cause behind. Nothing else is logged.
/// </summary>
public sealed class UnhandledErrorLog : ILoggerProvider
{
    private const string Category = "Clearflow.Server.Http.GlobalExceptionHandler";

    public static readonly string FilePath = Path.Combine(Path.GetTempPath(), "clearflow-test-host-errors.log");

    public static readonly string WorkerFilePath = Path.Combine(Path.GetTempPath(), "clearflow-test-worker-warnings.log");

    private static readonly Lock Writing = new();

    public ILogger CreateLogger(string categoryName) => categoryName switch
    {
        Category => new ToFile(FilePath, LogLevel.Error, categoryName),
        _ when categoryName.StartsWith("Clearflow.Server.Workers.", StringComparison.Ordinal)
            || categoryName.StartsWith("Clearflow.Server.Sandbox.", StringComparison.Ordinal) => new ToFile(WorkerFilePath, LogLevel.Warning, categoryName),
        _ => NullLogger.Instance,
    };

    public void Dispose()
    {
    }

    private sealed class ToFile(string path, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (Writing)
                {
                    File.AppendAllText(path, $"{DateTimeOffset.UtcNow:O} {logLevel} {category}: {formatter(state, exception)}{Environment.NewLine}{exception}{Environment.NewLine}{Environment.NewLine}");
                }
            }
        }
    }
}
