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

    private static string TrainFileOf(IngestApp app, PrepareResponse prepared) =>
        Path.Combine(app.WorkDirectory, $"train-{prepared.SourceSha256}-{BatchSize}.rows");

    private static Task<List<string>> TrainRowsAsync(IngestApp app) =>
        app.RawColumnAsync<string>("SELECT encounter_id || ' in batch ' || batch_number FROM raw_encounters WHERE split = 'train' ORDER BY encounter_id");

    private static Task<List<string>> LedgerAsync(IngestApp app) =>
        app.RawColumnAsync<string>("SELECT concat_ws(' ', split, batch_number, rows, first_encounter_id, last_encounter_id) FROM ingest_batches ORDER BY id");

    /// <summary>What happens to the local train file while the service is down.</summary>
    public enum FileLoss { Deleted, Truncated, Damaged }

    [Theory]
    [InlineData(FileLoss.Deleted)]
    [InlineData(FileLoss.Truncated)]
    [InlineData(FileLoss.Damaged)]
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
                // One byte of batch 2, the next to load (a quarter into the file): the trailer still reads
                var damaged = intact.ToArray();
                damaged[damaged.Length / 4] ^= 0x01;
                await File.WriteAllBytesAsync(trainFile, damaged);
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
    public async Task AStartSweepsTheTemporaryFilesOfEndedProcessesAndASplitTheTrainFilesOfOtherSources()
    {
        // Arrange: a work directory holding what ended processes and an earlier source left
        var work = Directory.CreateTempSubdirectory("diabetes-ingest-").FullName;
        var ended = Path.Combine(work, $"downloaded-source.{int.MaxValue - 1}.{Guid.NewGuid():N}.tmp");
        var earlierSource = Path.Combine(work, $"train-{new string('a', 64)}-{BatchSize}.rows");
        var unrelated = Path.Combine(work, "notes.txt");
        foreach (var file in new[] { ended, earlierSource, unrelated })
        {
            await File.WriteAllTextAsync(file, "left behind");
        }

        // Act
        await using var app = await IngestApp.StartAsync(TestData.WriteTempFile(Slice(3_500, 200)), BatchSize, workDirectory: work);
        app.CreateClient().Dispose();
        var afterStart = Directory.GetFiles(work).Select(Path.GetFileName).Order().ToList();
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        var afterSplit = Directory.GetFiles(work).Select(Path.GetFileName).Order().ToList();

        // Assert: the start took the ended process's file, the split the earlier source's train file; others stay
        Assert.Equal([Path.GetFileName(unrelated), Path.GetFileName(earlierSource)], afterStart);
        Assert.Equal([Path.GetFileName(unrelated), Path.GetFileName(TrainFileOf(app, prepared))], afterSplit);
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
