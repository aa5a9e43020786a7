using System.Diagnostics;
using System.Security.Cryptography;

namespace Diabetes.Ingest.Sources;

/// <summary>A source file on local disk, with its SHA-256 as received.</summary>
public sealed class FetchedSource(string location, string fileName, string localPath, string sha256, long length, bool temporary)
    : IDisposable
{
    /// <summary>Where it came from: the configured URL or path.</summary>
    public string Location { get; } = location;

    public string FileName { get; } = fileName;

    public string LocalPath { get; } = localPath;

    /// <summary>Lower-case hex SHA-256 of the bytes as received.</summary>
    public string Sha256 { get; } = sha256;

    public long Length { get; } = length;

    public void Dispose()
    {
        if (temporary)
        {
            File.Delete(LocalPath);
        }
    }
}

/// <summary>Gets the dataset from an http(s) URL (downloaded with progress in the log) or a local path.</summary>
public sealed class SourceFetcher(IHttpClientFactory httpClientFactory, WorkDirectory work, ILogger<SourceFetcher> logger)
{
    public const string HttpClientName = "dataset-source";

    private const int ProgressSteps = 10;

    /// <summary>The longest a download may take, body included (the resilience handler only times the answer's headers).</summary>
    public static readonly TimeSpan DownloadTimeout = TimeSpan.FromMinutes(15);

    public static bool IsUrl(string location) =>
        Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    public async Task<FetchedSource> FetchAsync(string location, CancellationToken cancellationToken)
    {
        if (IsUrl(location))
        {
            return await DownloadAsync(location, cancellationToken);
        }

        var path = Path.GetFullPath(location);
        if (!File.Exists(path))
        {
            throw new IngestProblemException(StatusCodes.Status422UnprocessableEntity, "The dataset source does not exist",
                $"Dataset:Source is '{location}', and there is no file {path}.");
        }

        await using var stream = File.OpenRead(path);
        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        return new FetchedSource(location, Path.GetFileName(path), path, hash, stream.Length, temporary: false);
    }

    private async Task<FetchedSource> DownloadAsync(string location, CancellationToken cancellationToken)
    {
        var uri = new Uri(location);
        var fileName = Path.GetFileName(Uri.UnescapeDataString(uri.AbsolutePath)) is { Length: > 0 } name ? name : "dataset";
        var localPath = work.NewTemporaryFile("downloaded-source");
        logger.LogInformation("Downloading the dataset from {Uri}", uri);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var response = await httpClientFactory.CreateClient(HttpClientName)
                .GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new IngestProblemException(StatusCodes.Status502BadGateway, "The dataset source could not be fetched",
                    $"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }

            var expected = response.Content.Headers.ContentLength;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(DownloadTimeout);
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            await using var file = File.Create(localPath);
            var nextReport = 1;
            var (received, sha256) = await HashingCopy.CopyAsync(body, file, copied =>
            {
                if (expected > 0 && copied * ProgressSteps >= expected * nextReport)
                {
                    logger.LogInformation("Downloaded {Received:N0} of {Expected:N0} bytes ({Percent}%)",
                        copied, expected, 100 * copied / expected);
                    nextReport = (int)(copied * ProgressSteps / expected.Value) + 1;
                }
            }, timeout.Token);

            logger.LogInformation("Downloaded {Received:N0} bytes from {Uri} in {Elapsed:N1} s",
                received, uri, stopwatch.Elapsed.TotalSeconds);
            // The location as configured, so that the next prepare recognises it.
            return new FetchedSource(location, fileName, localPath, sha256, received, temporary: true);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            File.Delete(localPath);
            throw new IngestProblemException(StatusCodes.Status502BadGateway, "The dataset source could not be fetched",
                $"GET {uri} took longer than {DownloadTimeout.TotalMinutes:N0} minutes.", exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or HttpIOException)
        {
            File.Delete(localPath);
            throw new IngestProblemException(StatusCodes.Status502BadGateway, "The dataset source could not be fetched",
                $"GET {uri} failed: {exception.Message}", exception);
        }
        catch
        {
            File.Delete(localPath);
            throw;
        }
    }
}
