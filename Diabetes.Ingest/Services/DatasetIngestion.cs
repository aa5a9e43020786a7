using System.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Polly;
using Polly.Registry;

namespace Diabetes.Ingest.Services;

/// <summary>Prepares RAW DATA from the source and loads the train batches, one per call.</summary>
public sealed class DatasetIngestion(
    SourceFetcher fetcher,
    DatasetBucket bucket,
    RawDataStore raw,
    IOptions<DatasetOptions> datasetOptions,
    IOptions<IngestOptions> ingestOptions,
    IMemoryCache cache,
    ResiliencePipelineProvider<string> resilience,
    ILogger<DatasetIngestion> logger)
{
    public static readonly ActivitySource ActivitySource = new("Diabetes.Ingest");

    /// <summary>How long the train rows of a parsed source stay in memory after their last use, unless every batch is loaded.</summary>
    private static readonly TimeSpan TrainRowsKeptFor = TimeSpan.FromMinutes(10);

    private ResiliencePipeline Retry => resilience.GetPipeline(StorageRetry.Name);

    /// <summary>
    /// Fetches the source, keeps it in the bucket, splits it and loads validation and test. Calling it again
    /// with the same source changes nothing; another source is refused while RAW DATA holds one.
    /// </summary>
    public Task<PrepareResponse> PrepareAsync(CancellationToken cancellationToken) =>
        Retry.ExecuteAsync(async token =>
        {
            using var activity = ActivitySource.StartActivity("dataset.prepare");
            var location = datasetOptions.Value.Source;
            var prepared = await raw.GetSourceAsync(token);

            // A URL is not downloaded again once prepared from: the DAG may call prepare every run.
            if (prepared is not null && SourceFetcher.IsUrl(location) && prepared.Location == location)
            {
                return ToResponse(prepared);
            }

            using var source = await fetcher.FetchAsync(location, token);
            activity?.SetTag("dataset.sha256", source.Sha256);
            if (prepared is not null)
            {
                return ToResponse(EnsureSame(prepared, source.Sha256));
            }

            var stopwatch = Stopwatch.StartNew();
            var parsed = SourceParser.Parse(source.LocalPath);
            logger.LogInformation("Parsed {Entry} of source {Sha256}: {Rows:N0} rows, {Rejected:N0} rejected, in {Elapsed:N0} ms",
                parsed.CsvEntry, source.Sha256, parsed.Rows.Count, parsed.Rejected.Count, stopwatch.ElapsedMilliseconds);
            foreach (var rejected in parsed.Rejected.Take(20))
            {
                logger.LogWarning("Rejected line {Line}: {Reason}", rejected.LineNumber, rejected.Reason);
            }

            await bucket.StoreAsync(source, token);
            KeepTrainRows(source.Sha256, parsed);
            var record = await raw.WriteAsync(async connection =>
            {
                // A concurrent prepare may have won the lock first.
                if (await RawDataStore.GetSourceAsync(connection, token) is { } winner)
                {
                    return EnsureSame(winner, source.Sha256);
                }

                return await LoadPreparedAsync(connection, source, parsed, token);
            }, token);
            logger.LogInformation("Prepared source {Sha256} in {Elapsed:N0} ms", record.Sha256, stopwatch.ElapsedMilliseconds);
            return ToResponse(record);
        }, cancellationToken).AsTask();

    /// <summary>Loads the next train batch; when none is left, answers <c>done</c> and changes nothing.</summary>
    public Task<NextBatchResponse> LoadNextBatchAsync(CancellationToken cancellationToken) =>
        Retry.ExecuteAsync(async token =>
        {
            using var activity = ActivitySource.StartActivity("dataset.batches.next");
            string? preparedSource = null;
            var answer = await raw.WriteAsync(async connection =>
            {
                var source = await RawDataStore.GetSourceAsync(connection, token)
                    ?? throw new IngestProblemException(StatusCodes.Status409Conflict, "The dataset is not prepared",
                        "Call POST /api/dataset/prepare before loading train batches.");
                preparedSource = source.Sha256;
                var loadedBatches = (int)await RawDataStore.CountTrainBatchesAsync(connection, source.Sha256, token);
                if (loadedBatches >= source.TrainBatches)
                {
                    return new NextBatchResponse(null, 0, source.TrainRows, 0, Done: true);
                }

                var batchNumber = loadedBatches + 1;
                var rows = await CutBatchAsync(source, batchNumber, token);
                var entry = await RawDataStore.LoadAsync(connection, source.Sha256, DatasetSplit.Train, batchNumber, rows, token);
                var loadedRows = await RawDataStore.CountTrainRowsAsync(connection, source.Sha256, token);
                activity?.SetTag("dataset.batch", batchNumber);
                logger.LogInformation("Loaded train batch {Batch} of {Batches}: {Rows:N0} rows, encounters {First}..{Last}",
                    batchNumber, source.TrainBatches, entry.Rows, entry.FirstEncounterId, entry.LastEncounterId);
                var remaining = source.TrainBatches - batchNumber;
                return new NextBatchResponse(batchNumber, entry.Rows, loadedRows, remaining, Done: remaining == 0);
            }, token);
            if (answer.Done && preparedSource is not null)
            {
                // Every batch is committed: the train rows kept for the next one are no longer needed.
                cache.Remove(TrainRowsKey(preparedSource));
            }

            return answer;
        }, cancellationToken).AsTask();

    /// <summary>
    /// Batch k (from 1) is the k-th slice of the train rows in arrival order, cut from the stored source file. A source
    /// file never changes (it is keyed by its hash), so its train rows are kept in memory for a while, until the last batch
    /// is loaded: batches loaded one after the other parse the file once.
    /// </summary>
    private async Task<IReadOnlyList<SourceRow>> CutBatchAsync(SourceRecord source, int batchNumber, CancellationToken cancellationToken)
    {
        if (!cache.TryGetValue(TrainRowsKey(source.Sha256), out IReadOnlyList<SourceRow>? train) || train is null)
        {
            var localPath = await bucket.DownloadAsync(source.ObjectKey, cancellationToken);
            try
            {
                train = KeepTrainRows(source.Sha256, SourceParser.Parse(localPath));
            }
            finally
            {
                File.Delete(localPath);
            }
        }

        return train.Skip((batchNumber - 1) * source.BatchSize).Take(source.BatchSize).ToArray();
    }

    private IReadOnlyList<SourceRow> KeepTrainRows(string sha256, ParsedSource parsed) =>
        cache.Set(TrainRowsKey(sha256), parsed.TrainRowsInArrivalOrder(), new MemoryCacheEntryOptions { SlidingExpiration = TrainRowsKeptFor });

    private static string TrainRowsKey(string sha256) => $"train-rows:{sha256}";

    private async Task<SourceRecord> LoadPreparedAsync(
        Npgsql.NpgsqlConnection connection, FetchedSource source, ParsedSource parsed, CancellationToken cancellationToken)
    {
        var batchSize = ingestOptions.Value.BatchSize;
        var trainRows = parsed.Rows.Count(r => r.Split == DatasetSplit.Train);
        var validation = parsed.RowsOf(DatasetSplit.Validation);
        var test = parsed.RowsOf(DatasetSplit.Test);
        var record = new SourceRecord(
            source.Sha256, source.Location, source.FileName, DatasetBucket.ObjectKey(source.Sha256, source.FileName),
            parsed.CsvEntry, source.Length, parsed.Rows.Count, parsed.Rejected.Count, trainRows,
            (trainRows + batchSize - 1) / batchSize, batchSize, validation.Count, test.Count, DateTimeOffset.UtcNow);

        await RawDataStore.InsertSourceAsync(connection, record, cancellationToken);
        await RawDataStore.InsertRejectedAsync(connection, source.Sha256, parsed.Rejected, cancellationToken);
        if (validation.Count > 0)
        {
            await RawDataStore.LoadAsync(connection, source.Sha256, DatasetSplit.Validation, null, validation, cancellationToken);
        }

        if (test.Count > 0)
        {
            await RawDataStore.LoadAsync(connection, source.Sha256, DatasetSplit.Test, null, test, cancellationToken);
        }

        return record;
    }

    private static SourceRecord EnsureSame(SourceRecord prepared, string sha256) =>
        prepared.Sha256 == sha256
            ? prepared
            : throw new IngestProblemException(StatusCodes.Status409Conflict, "RAW DATA holds another source",
                $"RAW DATA was prepared from source {prepared.Sha256} ({prepared.Location}); the configured source is {sha256}. " +
                "The split is decided once per source: empty the rawdata and cleandata databases to start over with another file.");

    private static PrepareResponse ToResponse(SourceRecord source) => new(
        source.Sha256, source.Rows, source.RejectedRows,
        new TrainSummary(source.TrainRows, source.TrainBatches, source.BatchSize),
        new SplitSummary(source.ValidationRows), new SplitSummary(source.TestRows));
}
