using Microsoft.AspNetCore.Diagnostics;

namespace Clearflow.Server.Http;

/// <summary>
/// The last resort for exceptions nobody expected: logs them with the request's trace id and answers
/// a 500 problem that hides internals outside Development. Client mistakes never get here; they are
/// <see cref="Application.Common.Problem"/>s.
/// </summary>
public sealed class GlobalExceptionHandler(IProblemDetailsService problemDetails, IHostEnvironment environment, ILogger<GlobalExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException bad)
        {
            httpContext.Response.StatusCode = bad.StatusCode;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails = { Status = bad.StatusCode, Title = "The request could not be read.", Detail = bad.Message, Type = ProblemResults.TypePrefix + "bad-request" },
            });
        }
        logger.LogError(exception, "Unhandled error on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = 500,
                Title = "Something went wrong on our side.",
                Type = ProblemResults.TypePrefix + "internal-error",
                Detail = environment.IsDevelopment() ? exception.ToString() : "The error was logged with this request's trace id. Nothing you sent was acknowledged unless a 2xx said so.",
            },
        });
    }
}
