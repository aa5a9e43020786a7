using Diabetes.Core.Storage;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Diabetes.Ingest.Sources;

/// <summary>
/// The bucket that keeps each source file as received, keyed by its SHA-256 (<c>sha256/&lt;hash&gt;/&lt;file name&gt;</c>).
/// It is the source of truth for the train batches: the local file they are cut from (<see cref="TrainBatchFile"/>) is
/// written again from the stored file when missing, so a restarted service or another replica cuts exactly the same batches.
/// </summary>
public sealed class DatasetBucket(IMinioClient client, IHttpClientFactory httpClientFactory, ILogger<DatasetBucket> logger)
{
    /// <summary>The bucket that keeps every source file as received.</summary>
    public const string Bucket = "datasets";

    public const string HttpClientName = "dataset-bucket";

    /// <summary>The longest a transfer with the bucket may take, and how long the signed address of an upload is valid.</summary>
    public static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(15);

    public static string ObjectKey(string sha256, string fileName) => $"sha256/{sha256}/{fileName}";

    /// <summary>Stores the file unless an object with its hash is there already.</summary>
    public async Task StoreAsync(FetchedSource source, CancellationToken cancellationToken)
    {
        await client.EnsureBucketAsync(Bucket, cancellationToken);
        var key = ObjectKey(source.Sha256, source.FileName);
        if (await ExistsAsync(key, cancellationToken))
        {
            logger.LogInformation("Source {Sha256} is already in s3://{Bucket}/{Key}", source.Sha256, Bucket, key);
            return;
        }

        // One PUT to a signed address, streamed from the file. The client's own upload reads a file under 5 MiB whole into
        // memory and a larger one in parts of 16 MiB, and the service's memory grew with the file (with the 10-times
        // dataset its peak through the pipeline was 350 MiB, against 274 MiB streamed).
        var url = await client.PresignedPutObjectAsync(new PresignedPutObjectArgs()
            .WithBucket(Bucket).WithObject(key).WithExpiry((int)TransferTimeout.TotalSeconds));
        await using var file = File.OpenRead(source.LocalPath);
        using var content = new StreamContent(file);
        content.Headers.ContentType = new(source.FileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? "application/zip" : "text/csv");
        using var response = await httpClientFactory.CreateClient(HttpClientName).PutAsync(url, content, cancellationToken);
        response.EnsureSuccessStatusCode();
        logger.LogInformation("Stored source {Sha256} ({Length:N0} bytes) in s3://{Bucket}/{Key}", source.Sha256, source.Length, Bucket, key);
    }

    /// <summary>Downloads a stored source to a temporary file, which the caller deletes.</summary>
    public async Task<string> DownloadAsync(string objectKey, CancellationToken cancellationToken)
    {
        var localPath = Path.Combine(Path.GetTempPath(), $"diabetes-source-{Guid.NewGuid():N}");
        try
        {
            await client.GetObjectAsync(new GetObjectArgs().WithBucket(Bucket).WithObject(objectKey).WithFile(localPath), cancellationToken);
            return localPath;
        }
        catch (ObjectNotFoundException exception)
        {
            File.Delete(localPath);
            throw new IngestProblemException(StatusCodes.Status409Conflict, "The prepared source is gone from the bucket",
                $"s3://{Bucket}/{objectKey} no longer exists; RAW DATA was prepared from it, so its batches cannot be cut.", exception);
        }
        catch
        {
            File.Delete(localPath);
            throw;
        }
    }

    private async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await client.StatObjectAsync(new StatObjectArgs().WithBucket(Bucket).WithObject(key), cancellationToken);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }
}
