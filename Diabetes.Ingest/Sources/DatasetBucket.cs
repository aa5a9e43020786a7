using System.Security.Cryptography;
using System.Xml.Linq;
using Diabetes.Core.Storage;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Diabetes.Ingest.Sources;

/// <summary>
/// The bucket that keeps each source file as received, keyed by its SHA-256 (<c>sha256/&lt;hash&gt;/&lt;file name&gt;</c>).
/// It is the source of truth for the train batches: the local file they are cut from (<see cref="TrainBatchFile"/>) is
/// written again from the stored file when missing, so a restarted service or another replica cuts exactly the same batches.
/// What is stored is checked both ways: the upload carries its MD5, which the object store checks, and a download must
/// have the source's SHA-256.
/// </summary>
public sealed class DatasetBucket(
    IMinioClient client, IHttpClientFactory httpClientFactory, WorkDirectory work, ILogger<DatasetBucket> logger)
{
    /// <summary>The bucket that keeps every source file as received.</summary>
    public const string Bucket = "datasets";

    public const string HttpClientName = "dataset-bucket";

    /// <summary>The longest a transfer with the bucket may take, and how long the signed address of an upload is valid.</summary>
    public static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(15);

    /// <summary>The largest object one PUT may store (S3's limit).</summary>
    public const long MaxObjectBytes = 5L * 1024 * 1024 * 1024;

    public static string ObjectKey(string sha256, string fileName) => $"sha256/{sha256}/{fileName}";

    /// <summary>Refuses a source the bucket cannot keep, before anything is loaded from it.</summary>
    public static void EnsureStorable(FetchedSource source)
    {
        if (source.Length > MaxObjectBytes)
        {
            throw new IngestProblemException(StatusCodes.Status413PayloadTooLarge, "The source is too large to keep",
                $"The source has {source.Length:N0} bytes; the bucket keeps a source by one PUT, of at most {MaxObjectBytes:N0} bytes. Compress it (.zip).");
        }
    }

    /// <summary>Stores the file unless an object with its hash and these very bytes (its MD5) is there already.</summary>
    public async Task StoreAsync(FetchedSource source, CancellationToken cancellationToken)
    {
        await client.EnsureBucketAsync(Bucket, cancellationToken);
        var key = ObjectKey(source.Sha256, source.FileName);
        await using var file = File.OpenRead(source.LocalPath);
        var md5 = await MD5.HashDataAsync(file, cancellationToken);
        file.Position = 0;
        var storedETag = await ETagOfAsync(key, cancellationToken);
        if (string.Equals(storedETag, Convert.ToHexString(md5), StringComparison.OrdinalIgnoreCase))
        {
            logger.LogInformation("Source {Sha256} is already in s3://{Bucket}/{Key}", source.Sha256, Bucket, key);
            return;
        }

        if (storedETag is not null)
        {
            logger.LogWarning("The ETag of s3://{Bucket}/{Key} ({ETag}) is not the file's MD5: storing source {Sha256} again",
                Bucket, key, storedETag, source.Sha256);
        }

        // One PUT to a signed address, streamed from the file. The client's own upload reads a file under 5 MiB whole into
        // memory and a larger one in parts of 16 MiB, and the service's memory grew with the file (with the 10-times
        // dataset its peak through the pipeline was 350 MiB, against 274 MiB streamed).
        var url = await client.PresignedPutObjectAsync(new PresignedPutObjectArgs()
            .WithBucket(Bucket).WithObject(key).WithExpiry((int)TransferTimeout.TotalSeconds));
        using var content = new StreamContent(file);
        content.Headers.ContentType = new(source.FileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? "application/zip" : "text/csv");
        content.Headers.ContentMD5 = md5;
        using var response = await httpClientFactory.CreateClient(HttpClientName).PutAsync(url, content, cancellationToken);
        await EnsureStoredAsync(response, key, cancellationToken);
        logger.LogInformation("Stored source {Sha256} ({Length:N0} bytes) in s3://{Bucket}/{Key}", source.Sha256, source.Length, Bucket, key);
    }

    /// <summary>
    /// A failure that may pass (a server error, a timeout, throttling) is thrown as <see cref="HttpRequestException"/>,
    /// which the storage retry retries; a refusal (bad credentials, a missing bucket, a digest that does not match) would
    /// come again, and is answered with S3's code.
    /// </summary>
    private static async Task EnsureStoredAsync(HttpResponseMessage response, string key, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var (code, message) = ParseError(body);
        var answer = $"PUT s3://{Bucket}/{key} answered {(int)response.StatusCode} {code}: {message}";
        if (StorageRetry.MayPass(response.StatusCode) || code is "RequestTimeout" or "SlowDown")
        {
            throw new HttpRequestException(answer, null, response.StatusCode);
        }

        throw new IngestProblemException(StatusCodes.Status502BadGateway, "The object store refused the source", answer);
    }

    /// <summary>The code and message of an S3 error document, or what the body says when it is none.</summary>
    private static (string Code, string Message) ParseError(string body)
    {
        try
        {
            var error = XDocument.Parse(body).Root;
            return (error?.Element("Code")?.Value ?? "(no code)", error?.Element("Message")?.Value ?? "");
        }
        catch (System.Xml.XmlException)
        {
            return ("(no code)", body.Length > 300 ? body[..300] : body);
        }
    }

    /// <summary>
    /// Downloads a stored source to a temporary file, which the caller deletes, and checks that it has the source's hash:
    /// the batches cut from it must be those the ledger recorded.
    /// </summary>
    public async Task<string> DownloadAsync(string objectKey, string sha256, CancellationToken cancellationToken)
    {
        var localPath = work.NewTemporaryFile("stored-source");
        try
        {
            // Into a file of the work directory, hashed on the way (the client's own WithFile leaves a part file of
            // another name behind when a download breaks off).
            var downloaded = "";
            await client.GetObjectAsync(new GetObjectArgs().WithBucket(Bucket).WithObject(objectKey).WithCallbackStream(async (body, token) =>
            {
                await using var file = new FileStream(localPath, FileMode.CreateNew, FileAccess.Write);
                (_, downloaded) = await HashingCopy.CopyAsync(body, file, copied: null, token);
            }), cancellationToken);
            if (downloaded != sha256)
            {
                throw new IngestProblemException(StatusCodes.Status409Conflict, "The stored source does not match its hash",
                    $"s3://{Bucket}/{objectKey} has SHA-256 {downloaded}; RAW DATA was prepared from {sha256}, so its batches cannot be cut from it. " +
                    "Put the original file back under that key.");
            }

            return localPath;
        }
        catch (Exception exception) when (exception is ObjectNotFoundException or BucketNotFoundException)
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

    /// <summary>The stored object's ETag (the MD5 of an object stored by one PUT), or null when there is none.</summary>
    private async Task<string?> ETagOfAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var stat = await client.StatObjectAsync(new StatObjectArgs().WithBucket(Bucket).WithObject(key), cancellationToken);
            return stat.ETag?.Trim('"') ?? "";
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }
}
