using Microsoft.Extensions.Logging;

namespace Clearflow.TestSupport;

/// <summary>
/// Writes the server's unhandled request errors (the 500s) to standard error, with the exception, so a test
/// that sees an unexpected 500 leaves its cause in the test run's output. Nothing else is logged.
/// </summary>
public sealed class UnhandledErrorLog : ILoggerProvider
{
    private const string Category = "Clearflow.Server.Http.GlobalExceptionHandler";

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
                Console.Error.WriteLine($"[clearflow test host] {formatter(state, exception)}{Environment.NewLine}{exception}");
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
