using Diabetes.Core.Data;
using Polly.Registry;

namespace Diabetes.Ingest.Services;

/// <summary>Turns RAW batches not yet cleaned into CLEAN DATA, one transaction per batch.</summary>
public sealed class DatasetCleaning(
    RawDataStore raw,
    CleanDataStore clean,
    ResiliencePipelineProvider<string> resilience,
    ILogger<DatasetCleaning> logger)
{
    public Task<CleanResponse> CleanAsync(CancellationToken cancellationToken)
    {
        // Outside the retried work: batches saved before a failure still count when it is tried again.
        var cleanedRows = 0;
        var excludedByReason = new Dictionary<string, int>();
        return resilience.GetPipeline(StorageRetry.Name).ExecuteAsync(async token =>
        {
            using var activity = DatasetIngestion.ActivitySource.StartActivity("dataset.clean");
            var source = await raw.GetSourceAsync(token)
                ?? throw new IngestProblemException(StatusCodes.Status409Conflict, "The dataset is not prepared",
                    "Call POST /api/dataset/prepare (and load batches) before cleaning.");
            var alreadyCleaned = await clean.GetCleanedBatchesAsync(source.Sha256, token);
            var pending = (await raw.GetLedgerAsync(token))
                .Where(b => b.SourceSha256 == source.Sha256 && !alreadyCleaned.Contains((b.Split, b.BatchNumber)));

            foreach (var batch in pending)
            {
                var stopwatch = System.Diagnostics.Stopwatch.StartNew();
                // The RAW rows stream through the cleaning rules into CLEAN DATA: a batch is never held whole.
                var excluded = new List<ExcludedEncounter>();
                if (await clean.SaveBatchAsync(batch, CleanRowsAsync(batch, excluded, token), excluded, token) is not { } cleaned)
                {
                    continue; // a concurrent call cleaned it first
                }

                cleanedRows += cleaned;
                foreach (var group in excluded.GroupBy(e => e.Reason))
                {
                    excludedByReason[group.Key] = excludedByReason.GetValueOrDefault(group.Key) + group.Count();
                }

                logger.LogInformation("Cleaned {Split} batch {Batch}: {Cleaned:N0} rows kept, {Excluded:N0} left out, in {Elapsed:N0} ms",
                    batch.Split, batch.BatchNumber?.ToString() ?? "(whole)", cleaned, excluded.Count, stopwatch.Elapsed.TotalMilliseconds);
            }

            var counts = await clean.CountAsync(token);
            return new CleanResponse(cleanedRows, excludedByReason.Values.Sum(), excludedByReason, counts.RowsBySplit);
        }, cancellationToken).AsTask();
    }

    /// <summary>The batch's RAW rows that the cleaning rules keep, cleaned; the others are added to <paramref name="excluded"/>.</summary>
    private async IAsyncEnumerable<CleanEncounterRow> CleanRowsAsync(
        LedgerEntry batch, List<ExcludedEncounter> excluded, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in raw.ReadAsync(batch, cancellationToken))
        {
            switch (EncounterCleaner.Clean(row.Encounter))
            {
                case CleaningResult.Cleaned result:
                    yield return new CleanEncounterRow(row.EncounterId, row.PatientNbr, row.Split, row.BatchNumber, batch.SourceSha256, result.Encounter);
                    break;
                case CleaningResult.Excluded result:
                    excluded.Add(new ExcludedEncounter(row.EncounterId, row.Split, row.BatchNumber, result.Reason,
                        $"discharge_disposition_id {result.DischargeDispositionId}"));
                    break;
                case CleaningResult.Invalid result:
                    var detail = string.Join("; ", result.Errors.Select(e => $"{e.Field}: {e.Message}"));
                    logger.LogWarning("Encounter {EncounterId} left out of CLEAN DATA: {Detail}", row.EncounterId, detail);
                    excluded.Add(new ExcludedEncounter(row.EncounterId, row.Split, row.BatchNumber, CleanDataStore.InvalidReason, detail));
                    break;
            }
        }
    }
}
