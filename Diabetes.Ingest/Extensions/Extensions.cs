using Diabetes.Core.Data;
using Diabetes.Ingest.Data.Migrations;
using Diabetes.Core.Http;
using Diabetes.Core.Storage;
using Polly;

namespace Diabetes.Ingest;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>()
            .BindConfiguration("Ingest")
            .Validate(o => o.BatchSize > 0, "Ingest:BatchSize must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<DatasetOptions>()
            .BindConfiguration("Dataset")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Source), "Dataset:Source must be a URL or a file path.")
            .ValidateOnStart();

        builder.AddKeyedNpgsqlDataSource(RawDataStore.ConnectionName);
        builder.AddKeyedNpgsqlDataSource(CleanDataStore.ConnectionName);
        // The schemas' migrations (EF Core). The data sources' readiness checks already watch both databases, and a
        // migration is retried as a whole: by the storage retry of the request, or by the start-up task.
        builder.AddNpgsqlDbContext<RawDataContext>(RawDataStore.ConnectionName, ForMigrations);
        builder.AddNpgsqlDbContext<CleanDataContext>(CleanDataStore.ConnectionName, ForMigrations);
        builder.Services.AddSingleton(typeof(DatabaseSchema<>));
        builder.Services.AddHostedService<SchemaMigrationStartUp>();
        builder.AddMinioClient("minio");

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<IngestProblemHandler>();

        // The standard handler allows 30 s a request (and the client 100 s); a dataset's download on a slow link needs longer.
        builder.Services.AddHttpClient(SourceFetcher.HttpClientName, client => client.Timeout = SourceFetcher.DownloadTimeout)
            .ReplaceStandardResilienceHandler(options =>
            {
                options.AttemptTimeout.Timeout = TimeSpan.FromMinutes(5);
                options.TotalRequestTimeout.Timeout = SourceFetcher.DownloadTimeout;
                options.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(10);
            });
        // The upload of a source to the bucket is one PUT streamed from the file: it gets the whole transfer time, and is
        // not re-sent by the handler (its body is read once); the storage retry runs the whole step again instead.
        builder.Services.AddHttpClient(DatasetBucket.HttpClientName, client => client.Timeout = DatasetBucket.TransferTimeout)
            .ReplaceStandardResilienceHandler(options =>
            {
                options.Retry.ShouldHandle = _ => ValueTask.FromResult(false);
                options.AttemptTimeout.Timeout = DatasetBucket.TransferTimeout;
                options.TotalRequestTimeout.Timeout = DatasetBucket.TransferTimeout;
                options.CircuitBreaker.SamplingDuration = 2 * DatasetBucket.TransferTimeout;
            });

        builder.Services.AddResiliencePipeline(StorageRetry.Name, StorageRetry.Configure);

        builder.Services.AddSingleton<WorkDirectory>();
        builder.Services.AddHostedService(services => services.GetRequiredService<WorkDirectory>());
        builder.Services.AddSingleton<SourceFetcher>();
        builder.Services.AddSingleton<DatasetBucket>();
        builder.Services.AddHostedService<DatasetBucketInitializer>();
        builder.Services.AddSingleton<RawDataStore>();
        builder.Services.AddSingleton<CleanDataStore>();
        builder.Services.AddSingleton<DatasetIngestion>();
        builder.Services.AddSingleton<DatasetCleaning>();
        builder.Services.AddSingleton<DatasetReport>();

        return builder;
    }

    private static void ForMigrations(Aspire.Npgsql.EntityFrameworkCore.PostgreSQL.NpgsqlEntityFrameworkCorePostgreSQLSettings settings)
    {
        settings.DisableHealthChecks = true;
        settings.DisableRetry = true;
    }
}
