using Microsoft.Extensions.Logging;

namespace Clearflow.TestSupport;

/// <summary>
/// Appends the server's unhandled request errors (the 500s), with their exception, to <see cref="FilePath"/>,
/// which test.sh prints when a run fails: a test that sees an unexpected 500 leaves its cause behind.
/// Nothing else is logged.
/// </summary>
public sealed class UnhandledErrorLog : ILoggerProvider
{
    private const string Category = "Clearflow.Server.Http.GlobalExceptionHandler";

    public static readonly string FilePath = Path.Combine(Path.GetTempPath(), "clearflow-test-host-errors.log");

    private static readonly Lock Writing = new();

    public ILogger CreateLogger(string categoryName) => categoryName == Category ? new ToStandardError() : NoLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class ToStandardError : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (Writing)
                {
                    File.AppendAllText(FilePath, $"{DateTimeOffset.UtcNow:O} {formatter(state, exception)}{Environment.NewLine}{exception}{Environment.NewLine}{Environment.NewLine}");
                }
            }
        }
    }

    private sealed class NoLogger : ILogger
    {
        public static readonly NoLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
