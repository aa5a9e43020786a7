using System.Net;
using Minio.Exceptions;
using Npgsql;
using Polly;
using Polly.DependencyInjection;
using Polly.Retry;

namespace Diabetes.Ingest.Services;

/// <summary>
/// Retries a whole operation when PostgreSQL or the object store fails in a way that may pass (connection refused,
/// server restarting). Every operation is one transaction and idempotent, so running it again is safe.
/// </summary>
public static class StorageRetry
{
    public const string Name = "storage";

    /// <summary>S3's error codes of a failure that may pass.</summary>
    private static readonly HashSet<string> TransientS3Codes =
        ["InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "XMinioServerNotInitialized"];

    /// <summary>
    /// A failure that may pass: PostgreSQL or the object store unreachable, restarting, busy or cut off mid-answer. An
    /// answer of the object store counts only as a server error, a timeout or throttling: a refusal (403, 404, 400)
    /// comes again however often it is asked. A refusal the service has decided (<see cref="IngestProblemException"/>)
    /// is final, whatever caused it.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        // EF Core's retrying strategy (schema migrations) wraps the last failure: look through it.
        for (var cause = exception; cause is not null and not IngestProblemException; cause = cause.InnerException)
        {
            var transient = cause switch
            {
                NpgsqlException npgsql => npgsql.IsTransient,
                ConnectionException or HttpIOException => true,
                HttpRequestException http => http.StatusCode is not { } status || MayPass(status),
                MinioException { ServerResponse: { } response } => MayPass(response.StatusCode),
                // MinIO's client (7.0) gives a server error with a body as UnexpectedMinioException with S3's code and
                // no status, and one without a body (the answer to a HEAD) as a NullReferenceException of its own.
                MinioException { Response.Code: { } code } => TransientS3Codes.Contains(code),
                NullReferenceException { Source: "Minio" } => true,
                _ => false,
            };
            if (transient)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An HTTP status that may pass when asked again: a server error, a timeout, throttling.</summary>
    public static bool MayPass(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    public static void Configure(ResiliencePipelineBuilder pipeline, AddResiliencePipelineContext<string> context)
    {
        var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Diabetes.Ingest.StorageRetry");
        pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = arguments => ValueTask.FromResult(arguments.Outcome.Exception is { } exception && IsTransient(exception)),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromSeconds(1),
            BackoffType = DelayBackoffType.Exponential,
            OnRetry = args =>
            {
                logger.LogWarning(args.Outcome.Exception, "Storage unavailable ({Error}); attempt {Attempt} again in {Delay}",
                    args.Outcome.Exception?.Message, args.AttemptNumber + 2, args.RetryDelay);
                return default;
            },
        });
    }
}
