namespace Clearflow.Application.Common;

/// <summary>
/// An expected failure of a use case, mapped to RFC 9457 problem details in one place
/// (Server/Http/ProblemResults). <see cref="Code"/> becomes the problem type
/// <c>urn:clearflow:problem:{code}</c>.
/// </summary>
public sealed record Problem(int Status, string Code, string Title, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>
    /// The authentication scheme a 401 asks for (RFC 9110: a 401 names it in <c>WWW-Authenticate</c>); null for none,
    /// as for a webhook whose signature did not verify, which no credential sent another way would fix.
    /// </summary>
    public string? Challenge { get; init; }

    /// <summary>No valid bearer credential: the API key, client secret or token is missing, unknown or revoked.</summary>
    public static Problem Unauthenticated(string detail, string title = "Authentication required.") =>
        new(401, "unauthenticated", title, detail) { Challenge = "Bearer" };

    public static Problem Validation(IReadOnlyDictionary<string, string[]> errors) =>
        new(422, "validation-failed", "The request is not valid.", "One or more fields are invalid; see errors.", errors);

    public static Problem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static Problem BadRequest(string code, string detail) => new(400, code, "The request could not be read.", detail);

    public static Problem NotFound(string what, string id) => new(404, "not-found", $"{what} not found.", $"No {what.ToLowerInvariant()} '{id}' exists for this merchant.");

    public static Problem Conflict(string code, string detail) => new(409, code, "The request conflicts with the current state.", detail);
}

/// <summary>A use case's answer: a value or a problem.</summary>
public readonly record struct Result<T>
{
    private Result(T? value, Problem? problem)
    {
        Value = value;
        Error = problem;
    }

    public T? Value { get; }
    public Problem? Error { get; }
    public bool IsSuccess => Error is null;

    public static implicit operator Result<T>(T value) => new(value, null);

    /// <summary>For values of interface type, which C# does not convert implicitly.</summary>
    public static Result<T> Ok(T value) => new(value, null);
    public static implicit operator Result<T>(Problem problem) => new(default, problem);
}
