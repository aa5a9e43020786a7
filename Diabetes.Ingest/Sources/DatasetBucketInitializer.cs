using Diabetes.Core.Storage;
using Minio;

namespace Diabetes.Ingest.Sources;

/// <summary>
/// Creates the <c>datasets</c> bucket at start-up if it is missing, trying again while the object store is down
/// (without holding up the service, whose <c>/health</c> says meanwhile that the store does not answer).
/// </summary>
public sealed class DatasetBucketInitializer(IMinioClient client, ILogger<DatasetBucketInitializer> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await client.EnsureBucketAsync(DatasetBucket.Bucket, stoppingToken);
                logger.LogInformation("Bucket {Bucket} is ready", DatasetBucket.Bucket);
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not create bucket {Bucket} ({Error}); trying again in {Delay}", DatasetBucket.Bucket, exception.Message, RetryDelay);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }
}
