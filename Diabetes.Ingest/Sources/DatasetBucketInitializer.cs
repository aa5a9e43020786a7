using Diabetes.Core.Hosting;
using Diabetes.Core.Storage;
using Minio;

namespace Diabetes.Ingest.Sources;

/// <summary>Creates the <c>datasets</c> bucket at start-up if it is missing.</summary>
public sealed class DatasetBucketInitializer(IMinioClient client, ILogger<DatasetBucketInitializer> logger) : StartUpTask(logger)
{
    protected override string Description => $"create bucket {DatasetBucket.Bucket}";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await client.EnsureBucketAsync(DatasetBucket.Bucket, cancellationToken);
        logger.LogInformation("Bucket {Bucket} is ready", DatasetBucket.Bucket);
    }
}
