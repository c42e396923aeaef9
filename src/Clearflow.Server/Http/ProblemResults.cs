using Clearflow.Application.Common;

namespace Clearflow.Server.Http;

/// <summary>The one place where a use case's <see cref="Problem"/> becomes RFC 9457 problem details.</summary>
public static class ProblemResults
{
    public const string TypePrefix = "urn:clearflow:problem:";

    public static IResult ToResult(this Problem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var extensions = new Dictionary<string, object?> { ["code"] = problem.Code };
        if (problem.Errors is not null)
        {
            extensions["errors"] = problem.Errors;
        }
        var result = TypedResults.Problem(detail: problem.Detail, statusCode: problem.Status, title: problem.Title, type: TypePrefix + problem.Code, extensions: extensions);
        return problem.Challenge is { } scheme ? new Challenged(result, scheme) : result;
    }

    /// <summary>A problem that names the authentication scheme it asks for.</summary>
    private sealed class Challenged(IResult problem, string scheme) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.WWWAuthenticate = scheme;
            return problem.ExecuteAsync(httpContext);
        }
    }

    /// <summary>Writes a problem outside an endpoint (authentication challenges, body limits).</summary>
    public static Task WriteAsync(HttpContext context, Problem problem)
    {
        ArgumentNullException.ThrowIfNull(context);
        return problem.ToResult().ExecuteAsync(context);
    }
}
