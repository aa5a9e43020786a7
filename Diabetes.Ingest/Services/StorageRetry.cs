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

    /// <summary>
    /// A failure that may pass: PostgreSQL or the object store unreachable or restarting. An HTTP answer of the object
    /// store counts only as a server error (5xx): a refusal (4xx) comes again however often it is asked.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        // EF Core's retrying strategy (schema migrations) wraps the last failure: look through it.
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is NpgsqlException { IsTransient: true } or ConnectionException || cause is HttpRequestException http && MayPass(http))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MayPass(HttpRequestException exception) => exception.StatusCode is null || (int)exception.StatusCode >= 500;

    public static void Configure(ResiliencePipelineBuilder pipeline, AddResiliencePipelineContext<string> context)
    {
        var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Diabetes.Ingest.StorageRetry");
        pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<NpgsqlException>(e => e.IsTransient)
                .Handle<ConnectionException>()
                .Handle<HttpRequestException>(MayPass),
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
