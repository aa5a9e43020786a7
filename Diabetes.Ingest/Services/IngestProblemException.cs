using Diabetes.Core.Data;
using Npgsql;

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

/// <summary>
/// Writes an <see cref="IngestProblemException"/> as ProblemDetails with its status; a database missing, or storage
/// still down after the retries, as 503 with <c>Retry-After</c>; rows that clash with rows already loaded as 409; the object store's refusal
/// as 502 with its reason.
/// </summary>
public sealed class IngestProblemHandler(IProblemDetailsService problemDetails, ILogger<IngestProblemHandler> logger)
    : ProblemAnswerHandler(problemDetails, logger)
{
    /// <summary>The keys of loaded rows: a clash on one of them is data already there, not a bug.</summary>
    private static readonly HashSet<string?> LoadedRowKeys =
        ["raw_encounters_pkey", "rejected_rows_pkey", "ingest_batches_once", "clean_encounters_pkey", "excluded_encounters_pkey", "cleaned_batches_once"];

    protected override ProblemAnswer? Classify(Exception exception) => exception switch
    {
        IngestProblemException refused => new ProblemAnswer(refused.StatusCode, refused.Title, refused.Message,
            refused.StatusCode == StatusCodes.Status503ServiceUnavailable ? ProblemAnswer.DefaultRetryAfter : null),
        MissingDatabaseException missing => new ProblemAnswer(StatusCodes.Status503ServiceUnavailable, "A database is missing", missing.Message,
            ProblemAnswer.DefaultRetryAfter),
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } duplicate when LoadedRowKeys.Contains(duplicate.ConstraintName) => new ProblemAnswer(StatusCodes.Status409Conflict,
            "Rows already loaded", $"The rows clash with rows RAW or CLEAN DATA holds already ({duplicate.ConstraintName}: {duplicate.Detail ?? duplicate.MessageText}); nothing was changed."),
        _ when StorageRetry.IsTransient(exception) => ProblemAnswer.Unavailable("Storage",
            $"PostgreSQL or the object store did not answer, even when tried again: {exception.Message}"),
        Minio.Exceptions.MinioException refused => new ProblemAnswer(StatusCodes.Status502BadGateway,
            "The object store refused the request", $"{refused.GetType().Name}: {refused.Message}"),
        _ => null,
    };
}
