using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A fault a service answers as such, not as a 500: another server down (503, with <c>Retry-After</c>), an unusable
/// answer of another server (502), a conflict (409), a request it cannot carry out (422).
/// </summary>
public sealed record ProblemAnswer(int StatusCode, string Title, string Detail, TimeSpan? RetryAfter = null)
{
    /// <summary>How long a caller should wait before trying a request again that failed on a server being down.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(10);

    public static ProblemAnswer Unavailable(string server, string detail) =>
        new(StatusCodes.Status503ServiceUnavailable, $"{server} is unavailable", detail, DefaultRetryAfter);

    /// <summary>Writes the answer as ProblemDetails, with its status and <c>Retry-After</c> when it has one.</summary>
    public async ValueTask<bool> WriteAsync(HttpContext httpContext, IProblemDetailsService problemDetails, Exception exception)
    {
        httpContext.Response.StatusCode = StatusCode;
        if (RetryAfter is { } delay)
        {
            httpContext.Response.Headers.RetryAfter = ((int)delay.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = StatusCode, Title = Title, Detail = Detail },
        });
    }
}

/// <summary>
/// Answers the exceptions a service classifies as faults of others (<see cref="Classify"/>) with their ProblemDetails,
/// each logged as a refusal; any other exception is left to the default handler, a 500.
/// </summary>
public abstract class ProblemAnswerHandler(IProblemDetailsService problemDetails, ILogger logger) : IExceptionHandler
{
    protected abstract ProblemAnswer? Classify(Exception exception);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (Classify(exception) is not { } problem)
        {
            return false;
        }

        logger.LogWarning("Refused {Method} {Path}: {Title}: {Detail}", httpContext.Request.Method, httpContext.Request.Path, problem.Title, problem.Detail);
        return await problem.WriteAsync(httpContext, problemDetails, exception);
    }
}
