using Diabetes.Core.Cleaning;
using Diabetes.Ingest.Apis;
using Diabetes.Ingest.Sources;
using Diabetes.Testing;
using Minio.DataModel.Args;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>The whole pipeline on the real dataset: prepare, the five train batches, clean.</summary>
public class PipelineTests
{
    private const string DatasetSha256 = "3a17a3b55b6dd4a1926703185c0ad8e2ed30bc8e2f9b927cdd1000b733d1de8e";

    private static async Task<List<NextBatchResponse>> LoadAllBatchesAsync(IngestApp app)
    {
        var batches = new List<NextBatchResponse>();
        for (var call = 0; call < 10 && batches.LastOrDefault()?.Done != true; call++)
        {
            batches.Add(await app.PostAsync<NextBatchResponse>("/api/batches/next"));
        }

        return batches;
    }

    [Fact]
    public async Task LoadsEveryEncounterInFiveBatchesAndCleansAllButDeathAndHospice()
    {
        // Arrange
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip);

        // Act
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        var batches = await LoadAllBatchesAsync(app);
        var cleaned = await app.PostAsync<CleanResponse>("/api/clean");

        // Assert: RAW holds every encounter, validation and test whole, train in 15,000-row batches
        Assert.Equal(DatasetSha256, prepared.SourceSha256);
        Assert.Equal(TestData.EncounterCount, prepared.Rows);
        Assert.Equal(0, prepared.RejectedRows);
        Assert.Equal(TestData.EncounterCount, prepared.Train.Rows + prepared.Validation.Rows + prepared.Test.Rows);
        Assert.Equal(5, prepared.Train.Batches);
        Assert.Equal([1, 2, 3, 4, 5], batches.Select(b => b.BatchNumber ?? 0));
        Assert.Equal([15_000, 15_000, 15_000, 15_000, prepared.Train.Rows - 60_000], batches.Select(b => b.Rows));
        Assert.True(batches[^1].Done);
        Assert.Equal(0, batches[^1].RemainingBatches);
        Assert.Equal(TestData.EncounterCount, await app.RawScalarAsync<long>("SELECT count(*) FROM raw_encounters"));
        Assert.Equal([15_000, 15_000, 15_000, 15_000, prepared.Train.Rows - 60_000],
            await app.RawColumnAsync<int>("SELECT rows FROM ingest_batches WHERE split = 'train' ORDER BY batch_number"));

        // Train batches follow arrival order: every id of batch k is below every id of batch k + 1
        Assert.Equal(0, await app.RawScalarAsync<long>("""
            SELECT count(*) FROM ingest_batches a JOIN ingest_batches b
              ON a.split = 'train' AND b.split = 'train' AND b.batch_number = a.batch_number + 1
            WHERE a.last_encounter_id >= b.first_encounter_id
            """));

        // No patient is in two splits
        Assert.Equal(0, await app.RawScalarAsync<long>(
            "SELECT count(*) FROM (SELECT patient_nbr FROM raw_encounters GROUP BY patient_nbr HAVING count(DISTINCT split) > 1) p"));

        // CLEAN = RAW minus the death and hospice discharges
        var excludedInRaw = await app.RawScalarAsync<long>(
            "SELECT count(*) FROM raw_encounters WHERE discharge_disposition_id IN ('11', '13', '14', '19', '20', '21')");
        Assert.Equal(2_423, excludedInRaw);
        Assert.Equal(TestData.EncounterCount - excludedInRaw, cleaned.CleanedRows);
        Assert.Equal(excludedInRaw, cleaned.ExcludedRows);
        Assert.Equal(TestData.EncounterCount - excludedInRaw, await app.CleanScalarAsync<long>("SELECT count(*) FROM clean_encounters"));
        Assert.Equal(new Dictionary<string, int> { [EncounterCleaner.ExcludedExpired] = 1_652, [EncounterCleaner.ExcludedHospice] = 771 },
            cleaned.ExcludedByReason);
        Assert.Equal(cleaned.CleanedRows, cleaned.CleanRowsBySplit.Values.Sum());
        Assert.Equal(0, await app.CleanScalarAsync<long>("SELECT count(*) FROM clean_encounters WHERE discharge_disposition_id IN (11, 13, 14, 19, 20, 21)"));
        Assert.Equal(11_314, await app.CleanScalarAsync<long>("SELECT count(*) FROM clean_encounters WHERE readmitted_within_30_days"));

        // The source file is kept as received, keyed by its SHA-256
        var stat = await TestServers.CreateMinioClient().StatObjectAsync(new StatObjectArgs()
            .WithBucket(DatasetBucket.Bucket).WithObject(DatasetBucket.ObjectKey(DatasetSha256, "dataset_diabetes.zip")));
        Assert.Equal(new FileInfo(TestData.DatasetZip).Length, stat.Size);
    }

    [Fact]
    public async Task CallingEveryEndpointAgainChangesNothing()
    {
        // Arrange
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip);
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        var afterPrepare = await app.SnapshotAsync();

        // Act and assert: prepare again
        Assert.Equal(prepared, await app.PostAsync<PrepareResponse>("/api/dataset/prepare"));
        Assert.Equal(afterPrepare, await app.SnapshotAsync());

        // Once every batch is in, batches/next answers done and loads nothing
        await LoadAllBatchesAsync(app);
        var afterBatches = await app.SnapshotAsync();
        var again = await app.PostAsync<NextBatchResponse>("/api/batches/next");
        Assert.Equal(new NextBatchResponse(null, 0, prepared.Train.Rows, 0, true), again);
        Assert.Equal(afterBatches, await app.SnapshotAsync());

        // Clean again: nothing more to clean, the same CLEAN DATA
        var cleaned = await app.PostAsync<CleanResponse>("/api/clean");
        var afterClean = await app.SnapshotAsync();
        var cleanedAgain = await app.PostAsync<CleanResponse>("/api/clean");
        Assert.Equal(0, cleanedAgain.CleanedRows);
        Assert.Equal(0, cleanedAgain.ExcludedRows);
        Assert.Equal(cleaned.CleanRowsBySplit, cleanedAgain.CleanRowsBySplit);
        Assert.Equal(afterClean, await app.SnapshotAsync());

        // The reads change nothing and answer the same twice
        var status = await app.GetAsync<StatusResponse>("/api/dataset/status");
        Assert.Equivalent(status, await app.GetAsync<StatusResponse>("/api/dataset/status"), strict: true);
        var profile = await app.GetAsync<ProfileResponse>("/api/dataset/profile");
        Assert.Equivalent(profile, await app.GetAsync<ProfileResponse>("/api/dataset/profile"), strict: true);
        Assert.Equal(afterClean, await app.SnapshotAsync());
        Assert.All(status.Batches, b => Assert.True(b.Cleaned));
    }

    [Fact]
    public async Task ConcurrentBatchCallsLoadDistinctBatches()
    {
        // Arrange
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip);
        await app.PostAsync<PrepareResponse>("/api/dataset/prepare");

        // Act: more calls at once than there are batches
        var answers = await Task.WhenAll(Enumerable.Range(0, 7).Select(_ => app.PostAsync<NextBatchResponse>("/api/batches/next")));

        // Assert
        Assert.Equal([1, 2, 3, 4, 5], answers.Where(a => a.BatchNumber is not null).Select(a => a.BatchNumber!.Value).Order());
        Assert.Equal(2, answers.Count(a => a.BatchNumber is null && a.Done));
        Assert.Equal(5, await app.RawScalarAsync<long>("SELECT count(*) FROM ingest_batches WHERE split = 'train'"));
        Assert.Equal(answers.Sum(a => a.Rows), await app.RawScalarAsync<long>("SELECT count(*) FROM raw_encounters WHERE split = 'train'"));
    }

    [Fact]
    public async Task ProfileDescribesEveryColumnAndTheClassBalanceBySplit()
    {
        // Arrange
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip);
        await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await LoadAllBatchesAsync(app);
        await app.PostAsync<CleanResponse>("/api/clean");

        // Act
        var profile = await app.GetAsync<ProfileResponse>("/api/dataset/profile?top=3");

        // Assert: figures measured on diabetic_data.csv
        Assert.Equal(TestData.EncounterCount, profile.RawRows);
        Assert.Equal(50, profile.Columns.Count);
        var columns = profile.Columns.ToDictionary(c => c.Name);
        Assert.Equal(98_569, columns["weight"].MissingCount);
        Assert.Equal(96.86, columns["weight"].MissingPercent);
        Assert.StartsWith("dropped from CLEAN DATA", columns["weight"].Note);
        Assert.Equal(49_949, columns["medical_specialty"].MissingCount);
        Assert.Equal(2_273, columns["race"].MissingCount);
        Assert.Equal(71_518, columns["patient_nbr"].DistinctCount);
        Assert.Equal(1, columns["examide"].DistinctCount);
        Assert.Equal("dropped from CLEAN DATA: constant", columns["citoglipton"].Note);
        Assert.Equal(new ValueCount("[70-80)", 26_068, 25.62), columns["age"].TopValues[0]);
        Assert.Equal(3, columns["age"].TopValues.Count);
        Assert.Equal(new NumericSummary(1, 14, 4.396, 4, 2.985, 0), columns["time_in_hospital"].Numeric);

        Assert.Equal(TestData.EncounterCount, profile.ClassBalance.Sum(b => b.Rows));
        Assert.Equal(11_357, profile.ClassBalance.Sum(b => b.Readmitted["<30"]));
        Assert.Equal(71_518, profile.ClassBalance.Sum(b => b.Patients));
        Assert.All(profile.ClassBalance, b => Assert.InRange(b.ReadmittedWithin30DaysPercent, 9.5, 13));

        Assert.Equal(7, profile.Batches.Count);
        Assert.Equal(99_343, profile.Clean.RowsBySplit.Values.Sum());
        Assert.All(profile.Clean.ReadmittedWithin30DaysPercentBySplit.Values, p => Assert.InRange(p, 9.5, 13));

        // The same analysis for people, as Markdown
        using var markdown = await app.CreateClient().GetAsync("/api/dataset/profile?format=markdown&top=3");
        var report = await markdown.Content.ReadAsStringAsync();
        Assert.Equal("text/markdown", markdown.Content.Headers.ContentType?.MediaType);
        Assert.Contains("| `weight` | Category | 98,569 (96.86 %) | 10 |", report);
        Assert.Contains("| `time_in_hospital` | Integer |", report);
        Assert.Contains("Left out: expired 1,652, hospice 771.", report);
        using var badFormat = await app.CreateClient().GetAsync("/api/dataset/profile?format=xml");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badFormat.StatusCode);
    }
}
