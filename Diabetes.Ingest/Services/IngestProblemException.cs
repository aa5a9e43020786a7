namespace Diabetes.Ingest.Services;

/// <summary>A request the service refuses for a reason the caller can read: becomes a ProblemDetails answer.</summary>
public sealed class IngestProblemException(int statusCode, string title, string detail, Exception? inner = null)
    : Exception(detail, inner)
{
    public int StatusCode { get; } = statusCode;

    public string Title { get; } = title;

    public static IngestProblemException UnusableSource(string detail) =>
        new(StatusCodes.Status422UnprocessableEntity, "The source is not the expected dataset", detail);
}

/// <summary>Writes an <see cref="IngestProblemException"/> as ProblemDetails with its status.</summary>
public sealed class IngestProblemHandler(IProblemDetailsService problemDetails, ILogger<IngestProblemHandler> logger)
    : Microsoft.AspNetCore.Diagnostics.IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            IngestProblemException refused => refused,
            _ when StorageRetry.IsTransient(exception) => new IngestProblemException(StatusCodes.Status503ServiceUnavailable,
                "Storage is unavailable", $"PostgreSQL or the object store did not answer, even when tried again: {exception.Message}", exception),
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        logger.LogWarning("Refused {Method} {Path}: {Title}: {Detail}",
            httpContext.Request.Method, httpContext.Request.Path, problem.Title, problem.Message);
        httpContext.Response.StatusCode = problem.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = problem.StatusCode, Title = problem.Title, Detail = problem.Message },
        });
    }
}
