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
        builder.AddMinioClient("minio");

        builder.Services.AddMemoryCache();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<IngestProblemHandler>();

        // The standard handler allows 30 s a request; a dataset download on a slow link needs longer.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is an evaluation API; it is the way to replace the default handler for one client.
        builder.Services.AddHttpClient(SourceFetcher.HttpClientName)
            // The resilience handler's timeouts rule; HttpClient's own 100 s would cut them short.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(options =>
            {
                options.AttemptTimeout.Timeout = TimeSpan.FromMinutes(5);
                options.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(15);
                options.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(10);
            });
#pragma warning restore EXTEXP0001

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
