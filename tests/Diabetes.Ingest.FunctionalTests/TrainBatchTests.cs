using Diabetes.Core.Encounters;
using Diabetes.Ingest.Apis;
using Diabetes.Ingest.Sources;
using Diabetes.Testing;
using Microsoft.AspNetCore.Http;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>The train batches are cut from a local file of the train rows in encounter_id order, not from rows in memory.</summary>
public class TrainBatchTests
{
    private const int BatchSize = 50;

    /// <summary>A slice of the dataset no other test uses, so that its train file is this test's alone.</summary>
    private static List<string> Slice(int skip, int lines) => [TestData.CsvLines[0], .. TestData.CsvLines.Skip(1 + skip).Take(lines)];

    private static long IdOf(string line) => long.Parse(line.Split(',')[0]);

    private static async Task<PrepareResponse> LoadAllAsync(IngestApp app)
    {
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        while (!(await app.PostAsync<NextBatchResponse>("/api/batches/next")).Done)
        {
        }

        return prepared;
    }

    /// <summary>Where batch <paramref name="batchNumber"/> starts in a train file, read from its trailer.</summary>
    private static int BatchStart(byte[] trainFile, int batchNumber)
    {
        const int batchEntry = sizeof(long) + 32;
        const int trailerTail = 32 + 3 * sizeof(int);
        var rows = BitConverter.ToInt32(trainFile, trainFile.Length - trailerTail + 32);
        var batches = (rows + BatchSize - 1) / BatchSize;
        var entries = trainFile.Length - trailerTail - batches * batchEntry;
        return (int)BitConverter.ToInt64(trainFile, entries + (batchNumber - 1) * batchEntry);
    }

    private static string TrainFileOf(IngestApp app, PrepareResponse prepared) =>
        Path.Combine(app.WorkDirectory, $"train-{prepared.SourceSha256}-{BatchSize}.rows");

    private static Task<List<string>> TrainRowsAsync(IngestApp app) =>
        app.RawColumnAsync<string>("SELECT encounter_id || ' in batch ' || batch_number FROM raw_encounters WHERE split = 'train' ORDER BY encounter_id");

    private static Task<List<string>> LedgerAsync(IngestApp app) =>
        app.RawColumnAsync<string>("SELECT concat_ws(' ', split, batch_number, rows, first_encounter_id, last_encounter_id) FROM ingest_batches ORDER BY id");

    /// <summary>What happens to the local train file while the service is down.</summary>
    public enum FileLoss { Deleted, Truncated, Damaged, OtherSource }

    [Theory]
    [InlineData(FileLoss.Deleted)]
    [InlineData(FileLoss.Truncated)]
    [InlineData(FileLoss.Damaged)]
    [InlineData(FileLoss.OtherSource)]
    public async Task BatchesCutAfterARestartWithoutAnIntactLocalFileAreTheSameAsWithoutRestart(FileLoss loss)
    {
        // Arrange: one instance loads every batch; another loads batch 1, then stops, and its local train file is lost
        var path = TestData.WriteTempFile(Slice(2_000, 400));
        await using var uninterrupted = await IngestApp.StartAsync(path, BatchSize);
        await LoadAllAsync(uninterrupted);
        await using var first = await IngestApp.StartAsync(path, BatchSize);
        var prepared = await first.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await first.PostAsync<NextBatchResponse>("/api/batches/next");
        var trainFile = TrainFileOf(first, prepared);
        await first.DisposeAsync();
        var intact = await File.ReadAllBytesAsync(trainFile);
        switch (loss)
        {
            case FileLoss.Deleted:
                File.Delete(trainFile);
                break;
            case FileLoss.Truncated:
                await File.WriteAllBytesAsync(trainFile, intact[..(intact.Length / 2)]);
                break;
            case FileLoss.Damaged:
                // One byte in batch 2, the next to load: the trailer still reads
                var damaged = intact.ToArray();
                damaged[BatchStart(intact, 2) + 100] ^= 0x01;
                await File.WriteAllBytesAsync(trainFile, damaged);
                break;
            case FileLoss.OtherSource:
                // The train file of another source, under this one's name
                await using (var other = await IngestApp.StartAsync(TestData.WriteTempFile(Slice(2_400, 400)), BatchSize))
                {
                    var otherPrepared = await other.PostAsync<PrepareResponse>("/api/dataset/prepare");
                    File.Copy(TrainFileOf(other, otherPrepared), trainFile, overwrite: true);
                }

                break;
        }

        // Act: a new instance on the same databases, bucket and disk loads the rest
        await using var restarted = first.WithSource(path);
        var second = await restarted.PostAsync<NextBatchResponse>("/api/batches/next");
        var rewritten = await File.ReadAllBytesAsync(trainFile);
        while (!(await restarted.PostAsync<NextBatchResponse>("/api/batches/next")).Done)
        {
        }

        // Assert: the train file was written again from the stored source as it was, and every batch holds the same rows
        Assert.Equal(2, second.BatchNumber);
        Assert.Equal(intact, rewritten);
        Assert.Equal(await TrainRowsAsync(uninterrupted), await TrainRowsAsync(restarted));
        Assert.Equal(await LedgerAsync(uninterrupted), await LedgerAsync(restarted));
        Assert.Equal(
            await uninterrupted.RawColumnAsync<string>("SELECT encounter_id || ':' || source_line || ':' || md5((to_jsonb(r) - 'loaded_at')::text) FROM raw_encounters r ORDER BY encounter_id"),
            await restarted.RawColumnAsync<string>("SELECT encounter_id || ':' || source_line || ':' || md5((to_jsonb(r) - 'loaded_at')::text) FROM raw_encounters r ORDER BY encounter_id"));

        // Once every batch is loaded the local file is gone
        Assert.False(File.Exists(trainFile));
    }

    [Fact]
    public async Task AStoredSourceThatLostItsBytesIsRefusedAndNothingIsLoaded()
    {
        // Arrange: batch 1 loaded; then the local train file is gone and the stored source holds other bytes
        var path = TestData.WriteTempFile(Slice(2_500, 300));
        await using var app = await IngestApp.StartAsync(path, BatchSize);
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await app.PostAsync<NextBatchResponse>("/api/batches/next");
        File.Delete(TrainFileOf(app, prepared));
        var key = await app.RawScalarAsync<string>("SELECT object_key FROM dataset_sources");
        var minio = TestServers.CreateMinioClient();
        var other = await File.ReadAllBytesAsync(TestData.WriteTempFile(Slice(2_800, 300)));
        using (var stream = new MemoryStream(other))
        {
            await minio.PutObjectAsync(new Minio.DataModel.Args.PutObjectArgs()
                .WithBucket(DatasetBucket.Bucket).WithObject(key).WithStreamData(stream).WithObjectSize(other.Length));
        }

        var before = await app.SnapshotAsync();

        // Act
        var problem = await app.PostExpectingProblemAsync("/api/batches/next", StatusCodes.Status409Conflict);

        // Assert: the answer names the object and both hashes; RAW DATA is as it was
        Assert.Equal("The stored source does not match its hash", problem.Title);
        Assert.Contains(key, problem.Detail);
        Assert.Contains(prepared.SourceSha256, problem.Detail);
        Assert.Equal(before, await app.SnapshotAsync());
    }

    [Fact]
    public async Task ASourceThatNoLongerGivesTheRecordedBatchesIsRefusedAndNothingIsLoaded()
    {
        // Arrange: batch 1 loaded; then the ledger records one train row more than the source gives (as when another
        // version of the service split it)
        var path = TestData.WriteTempFile(Slice(2_600, 300));
        await using var app = await IngestApp.StartAsync(path, BatchSize);
        await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await app.PostAsync<NextBatchResponse>("/api/batches/next");
        await app.RawExecuteAsync("UPDATE dataset_sources SET train_rows = train_rows + 1");
        var before = await app.SnapshotAsync();

        // Act
        var problem = await app.PostExpectingProblemAsync("/api/batches/next", StatusCodes.Status409Conflict);

        // Assert: the file was written again from the stored source, still disagreed, and nothing was loaded
        Assert.Equal("The stored source no longer gives the recorded batches", problem.Title);
        Assert.Contains("where the ledger recorded", problem.Detail);
        Assert.Equal(before, await app.SnapshotAsync());
    }

    [Fact]
    public async Task AStartSweepsTheTemporaryFilesOfEndedProcessesAndASplitTheTrainFilesOfOtherSources()
    {
        // Arrange: a work directory holding what ended processes and an earlier source left
        var work = Directory.CreateTempSubdirectory("diabetes-ingest-").FullName;
        var ended = Path.Combine(work, $"downloaded-source.{int.MaxValue - 1}.{Guid.NewGuid():N}.tmp");
        // A file of an earlier process with this process's id, as every container's first process has id 1
        var samePidEarlier = Path.Combine(work, $"stored-source.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var earlierSource = Path.Combine(work, $"train-{new string('a', 64)}-{BatchSize}.rows");
        var unrelated = Path.Combine(work, "notes.txt");
        foreach (var file in new[] { ended, samePidEarlier, earlierSource, unrelated })
        {
            await File.WriteAllTextAsync(file, "left behind");
        }

        File.SetLastWriteTimeUtc(samePidEarlier, System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime().AddMinutes(-1));
        // And one of a live step of this process, written after it started
        var live = Path.Combine(work, $"train-rows.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(live, "in use");

        // Act
        await using var app = await IngestApp.StartAsync(TestData.WriteTempFile(Slice(3_500, 200)), BatchSize, workDirectory: work);
        app.CreateClient().Dispose();
        var afterStart = Directory.GetFiles(work).Select(Path.GetFileName).Order().ToList();
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        var afterSplit = Directory.GetFiles(work).Select(Path.GetFileName).Order().ToList();

        // Assert: the start took the ended processes' files, the split the earlier source's train file; others stay
        Assert.Equal(new[] { unrelated, earlierSource, live }.Select(Path.GetFileName).Order(), afterStart);
        Assert.Equal(new[] { unrelated, TrainFileOf(app, prepared), live }.Select(Path.GetFileName).Order(), afterSplit);
    }

    [Fact]
    public async Task AFileOutOfEncounterIdOrderGivesTheBatchesOfTheOrderedFileAndRejectsDuplicatesEitherWay()
    {
        // Arrange: the same lines sorted and shuffled; the shuffled file repeats an id that came in ascending order (its
        // first line's) and one that came out of order, which are rejected with the line each was first on
        var lines = Slice(3_000, 400);
        var sorted = lines.Take(1).Concat(lines.Skip(1).OrderBy(IdOf)).ToList();
        var random = new Random(16);
        var shuffled = lines.Take(1).Concat(lines.Skip(1).OrderBy(_ => random.Next())).ToList();
        var outOfOrder = shuffled.FindIndex(2, line => IdOf(line) < IdOf(shuffled[1]));
        var withDuplicates = shuffled.Concat([shuffled[1], shuffled[outOfOrder]]).ToList();
        await using var inOrder = await IngestApp.StartAsync(TestData.WriteTempFile(sorted), BatchSize);
        await using var outOfOrderApp = await IngestApp.StartAsync(TestData.WriteTempFile(withDuplicates), BatchSize);

        // Act
        var preparedInOrder = await LoadAllAsync(inOrder);
        var prepared = await LoadAllAsync(outOfOrderApp);

        // Assert: batch k holds the k-th fifty train rows by encounter_id, whatever the order of the file
        Assert.Equal(preparedInOrder.Train, prepared.Train);
        Assert.True(prepared.Train.Batches > 3);
        var trainIds = sorted.Skip(1).Where(line => SplitRule.Assign(long.Parse(line.Split(',')[1])) == DatasetSplit.Train).Select(IdOf).Order().ToList();
        Assert.Equal(trainIds.Select((id, rank) => $"{id} in batch {rank / BatchSize + 1}"), await TrainRowsAsync(outOfOrderApp));
        Assert.Equal(await TrainRowsAsync(inOrder), await TrainRowsAsync(outOfOrderApp));
        Assert.Equal(await LedgerAsync(inOrder), await LedgerAsync(outOfOrderApp));
        Assert.Equal(
        [
            $"402: duplicate encounter_id {IdOf(shuffled[1])} (first on line 2)",
            $"403: duplicate encounter_id {IdOf(shuffled[outOfOrder])} (first on line {outOfOrder + 1})",
        ], await outOfOrderApp.RawColumnAsync<string>("SELECT line_number || ': ' || reason FROM rejected_rows ORDER BY line_number"));
    }
}
