using System.Diagnostics;
using Polly;
using Polly.Registry;

namespace Diabetes.Ingest.Services;

/// <summary>Prepares RAW DATA from the source and loads the train batches, one per call.</summary>
public sealed class DatasetIngestion(
    SourceFetcher fetcher,
    DatasetBucket bucket,
    WorkDirectory work,
    RawDataStore raw,
    IOptions<DatasetOptions> datasetOptions,
    IOptions<IngestOptions> ingestOptions,
    ResiliencePipelineProvider<string> resilience,
    ILogger<DatasetIngestion> logger)
{
    public static readonly ActivitySource ActivitySource = new("Diabetes.Ingest");

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
            var record = await raw.WriteAsync(async connection =>
            {
                // A concurrent prepare may have won the lock first.
                if (await RawDataStore.GetSourceAsync(connection, token) is { } winner)
                {
                    return EnsureSame(winner, source.Sha256);
                }

                return await LoadPreparedAsync(connection, source, token);
            }, token);
            logger.LogInformation("Prepared source {Sha256} in {Elapsed:N0} ms", record.Sha256, stopwatch.ElapsedMilliseconds);
            return ToResponse(record);
        }, cancellationToken).AsTask();

    /// <summary>Loads the next train batch; when none is left, answers <c>done</c> and changes nothing.</summary>
    public Task<NextBatchResponse> LoadNextBatchAsync(CancellationToken cancellationToken) =>
        Retry.ExecuteAsync(async token =>
        {
            using var activity = ActivitySource.StartActivity("dataset.batches.next");
            SourceRecord? prepared = null;
            var answer = await raw.WriteAsync(async connection =>
            {
                var source = await RawDataStore.GetSourceAsync(connection, token)
                    ?? throw new IngestProblemException(StatusCodes.Status409Conflict, "The dataset is not prepared",
                        "Call POST /api/dataset/prepare before loading train batches.");
                prepared = source;
                var loadedBatches = (int)await RawDataStore.CountTrainBatchesAsync(connection, source.Sha256, token);
                if (loadedBatches >= source.TrainBatches)
                {
                    return new NextBatchResponse(null, 0, source.TrainRows, 0, Done: true);
                }

                var batchNumber = loadedBatches + 1;
                var next = new NextTrainBatch(source, batchNumber, await RawDataStore.LastTrainEncounterIdAsync(connection, source.Sha256, token));
                using var train = await OpenTrainBatchAsync(next, token);
                var load = (await RawDataStore.CopyAsync(connection, batchNumber, train.ReadBatch(batchNumber), token)).Single();
                var entry = await RawDataStore.RecordAsync(connection, source.Sha256, batchNumber, load, token);
                var loadedRows = await RawDataStore.CountTrainRowsAsync(connection, source.Sha256, token);
                activity?.SetTag("dataset.batch", batchNumber);
                logger.LogInformation("Loaded train batch {Batch} of {Batches}: {Rows:N0} rows, encounters {First}..{Last}",
                    batchNumber, source.TrainBatches, entry.Rows, entry.FirstEncounterId, entry.LastEncounterId);
                var remaining = source.TrainBatches - batchNumber;
                return new NextBatchResponse(batchNumber, entry.Rows, loadedRows, remaining, Done: remaining == 0);
            }, token);
            if (answer.Done && prepared is not null)
            {
                // Every batch is committed: the train rows kept for the next one are no longer needed. One that cannot
                // go only takes space until the next source's split deletes it.
                work.TryDelete(work.TrainFile(prepared.Sha256, prepared.BatchSize));
            }

            return answer;
        }, cancellationToken).AsTask();

    /// <summary>The train batch to load: its source, its number, and the highest encounter id loaded before it.</summary>
    private sealed record NextTrainBatch(SourceRecord Source, int Number, long LastLoadedEncounterId);

    /// <summary>
    /// The train rows in arrival order (<c>encounter_id</c>), from which batch k is the k-th slice, checked for the next
    /// batch: kept in a local file from the split on, and written again from the stored source file when missing (after
    /// a restart, or on another replica), damaged, or not what the ledger recorded.
    /// </summary>
    private async Task<TrainBatchFile> OpenTrainBatchAsync(NextTrainBatch next, CancellationToken cancellationToken)
    {
        var source = next.Source;
        var path = work.TrainFile(source.Sha256, source.BatchSize);
        var kept = TrainBatchFile.TryOpen(path);
        var problem = kept is null ? "missing or unreadable" : DisagreementOrDispose(kept, next);
        if (problem is null)
        {
            return kept!;
        }

        logger.LogInformation("The train file {Path} is {Problem}: writing it again from the stored source", path, problem);
        // Gone before the new one is written: both would take the disk's space meanwhile.
        File.Delete(path);
        var written = await WriteTrainFileAgainAsync(source, cancellationToken);
        if (DisagreementOrDispose(written, next) is { } stillWrong)
        {
            throw new IngestProblemException(StatusCodes.Status409Conflict, "The stored source no longer gives the recorded batches",
                $"The train file written again from s3://{DatasetBucket.Bucket}/{source.ObjectKey} is {stillWrong}. " +
                "Was the source split by another version of the service? Empty the rawdata and cleandata databases to start over.");
        }

        return written;
    }

    /// <summary>
    /// What is wrong with a train file for the next batch (disposing the file when something is), or null: the ledger's
    /// source, rows, batches and batch size, the batch's bytes against their SHA-256, and a batch that starts after the
    /// last one loaded.
    /// </summary>
    private static string? DisagreementOrDispose(TrainBatchFile file, NextTrainBatch next)
    {
        var source = next.Source;
        string? problem;
        try
        {
            problem = file.SourceSha256 != source.Sha256 ? $"from another source ({file.SourceSha256})"
                : file.Rows != source.TrainRows || file.Batches != source.TrainBatches || file.BatchSize != source.BatchSize
                    ? $"holding {file.Rows:N0} train rows in {file.Batches} batches of {file.BatchSize:N0} where the ledger recorded " +
                      $"{source.TrainRows:N0} in {source.TrainBatches} of {source.BatchSize:N0}"
                : !file.IsIntact(next.Number) ? $"damaged in batch {next.Number} (its bytes no longer have their SHA-256)"
                : file.FirstEncounterIdOf(next.Number) is var first && first <= next.LastLoadedEncounterId
                    ? $"starting batch {next.Number} at encounter {first}, not after the last one loaded ({next.LastLoadedEncounterId})"
                : null;
        }
        catch (Exception exception) when (exception is IOException or InvalidDataException)
        {
            problem = $"unreadable ({exception.Message})";
        }

        if (problem is not null)
        {
            file.Dispose();
        }

        return problem;
    }

    private async Task<TrainBatchFile> WriteTrainFileAgainAsync(SourceRecord source, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var localPath = await bucket.DownloadAsync(source.ObjectKey, source.Sha256, cancellationToken);
        try
        {
            using var reader = SourceParser.Open(localPath);
            using var train = new TrainBatchFile.Writer(work, source.Sha256, source.BatchSize);
            foreach (var row in reader.Rows().Where(r => r.Split == DatasetSplit.Train))
            {
                train.Add(row);
            }

            var written = train.Complete();
            logger.LogInformation("Wrote the {Rows:N0} train rows of source {Sha256} again from the stored file, in {Elapsed:N0} ms",
                written.Rows, source.Sha256, stopwatch.ElapsedMilliseconds);
            return written;
        }
        finally
        {
            File.Delete(localPath);
        }
    }

    /// <summary>
    /// Splits the source in one pass: validation and test rows go to RAW DATA by one binary COPY as they are read, train
    /// rows to the train batch file; then the source's record, its rejected lines and the ledger. The source file is
    /// stored in the bucket last, so that a file found unusable is never kept.
    /// </summary>
    private async Task<SourceRecord> LoadPreparedAsync(
        Npgsql.NpgsqlConnection connection, FetchedSource source, CancellationToken cancellationToken)
    {
        DatasetBucket.EnsureStorable(source);
        var batchSize = ingestOptions.Value.BatchSize;
        using var reader = SourceParser.Open(source.LocalPath);
        using var train = new TrainBatchFile.Writer(work, source.Sha256, batchSize);
        var loads = await RawDataStore.CopyAsync(connection, null, HeldOutRows(reader.Rows(), train), cancellationToken);
        using var batches = train.Complete();
        if (work.DeleteTrainFilesBut(work.TrainFile(source.Sha256, batchSize)) is { Count: > 0 } stale)
        {
            logger.LogInformation("Deleted the train files of earlier sources: {Files}", string.Join(", ", stale));
        }

        logger.LogInformation("Split {Entry} of source {Sha256}: {Rows:N0} rows, {Rejected:N0} rejected",
            reader.CsvEntry, source.Sha256, reader.UsableRows, reader.Rejected.Count);
        foreach (var rejected in reader.Rejected.Take(20))
        {
            logger.LogWarning("Rejected line {Line}: {Reason}", rejected.LineNumber, rejected.Reason);
        }

        int RowsOf(DatasetSplit split) => loads.SingleOrDefault(l => l.Split == split)?.Rows ?? 0;
        var record = new SourceRecord(
            source.Sha256, source.Location, source.FileName, DatasetBucket.ObjectKey(source.Sha256, source.FileName),
            reader.CsvEntry, source.Length, reader.UsableRows, reader.Rejected.Count, batches.Rows, batches.Batches, batchSize,
            RowsOf(DatasetSplit.Validation), RowsOf(DatasetSplit.Test), DateTimeOffset.UtcNow);

        await RawDataStore.InsertSourceAsync(connection, record, cancellationToken);
        await RawDataStore.InsertRejectedAsync(connection, source.Sha256, reader.Rejected, cancellationToken);
        foreach (var load in loads)
        {
            await RawDataStore.RecordAsync(connection, source.Sha256, null, load, cancellationToken);
        }

        await bucket.StoreAsync(source, cancellationToken);
        return record;
    }

    /// <summary>The validation and test rows; the train rows are written to <paramref name="train"/> on the way.</summary>
    private static IEnumerable<SourceRow> HeldOutRows(IEnumerable<SourceRow> rows, TrainBatchFile.Writer train)
    {
        foreach (var row in rows)
        {
            if (row.Split == DatasetSplit.Train)
            {
                train.Add(row);
            }
            else
            {
                yield return row;
            }
        }
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
