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
        // The schemas' migrations (EF Core); the data sources' readiness checks already watch both databases.
        builder.AddNpgsqlDbContext<RawDataContext>(RawDataStore.ConnectionName, settings => settings.DisableHealthChecks = true);
        builder.AddNpgsqlDbContext<CleanDataContext>(CleanDataStore.ConnectionName, settings => settings.DisableHealthChecks = true);
        builder.Services.AddSingleton(typeof(DatabaseSchema<>));
        builder.Services.AddHostedService<SchemaMigrationStartUp>();
        builder.AddMinioClient("minio");

        builder.Services.AddMemoryCache();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<IngestProblemHandler>();

        // The standard handler allows 30 s a request; a dataset download on a slow link needs longer.
        builder.Services.AddHttpClient(SourceFetcher.HttpClientName)
            .ReplaceStandardResilienceHandler(options =>
            {
                options.AttemptTimeout.Timeout = TimeSpan.FromMinutes(5);
                options.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(15);
                options.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(10);
            });

        builder.Services.AddResiliencePipeline(StorageRetry.Name, StorageRetry.Configure);

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
}
