using Diabetes.Core.Encounters;
using Diabetes.Ingest.Apis;
using Diabetes.Ingest.Sources;
using Diabetes.Testing;

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

    private static Task<List<string>> TrainRowsAsync(IngestApp app) =>
        app.RawColumnAsync<string>("SELECT encounter_id || ' in batch ' || batch_number FROM raw_encounters WHERE split = 'train' ORDER BY encounter_id");

    private static Task<List<string>> LedgerAsync(IngestApp app) =>
        app.RawColumnAsync<string>("SELECT concat_ws(' ', split, batch_number, rows, first_encounter_id, last_encounter_id) FROM ingest_batches ORDER BY id");

    [Fact]
    public async Task BatchesCutAfterARestartWithoutTheLocalFileAreTheSameAsWithoutRestart()
    {
        // Arrange: one instance loads every batch; another loads batch 1, then stops, and its local train file is lost
        var path = TestData.WriteTempFile(Slice(2_000, 400));
        await using var uninterrupted = await IngestApp.StartAsync(path, BatchSize);
        await LoadAllAsync(uninterrupted);
        await using var first = await IngestApp.StartAsync(path, BatchSize);
        var prepared = await first.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await first.PostAsync<NextBatchResponse>("/api/batches/next");
        await first.DisposeAsync();
        var trainFile = TrainBatchFile.PathFor(prepared.SourceSha256, BatchSize);
        File.Delete(trainFile);

        // Act: a new instance on the same databases and bucket loads the rest
        await using var restarted = first.WithSource(path);
        var second = await restarted.PostAsync<NextBatchResponse>("/api/batches/next");
        var rewritten = File.Exists(trainFile);
        while (!(await restarted.PostAsync<NextBatchResponse>("/api/batches/next")).Done)
        {
        }

        // Assert: the train file was written again from the stored source, and every batch holds the same rows
        Assert.Equal(2, second.BatchNumber);
        Assert.True(rewritten);
        Assert.Equal(await TrainRowsAsync(uninterrupted), await TrainRowsAsync(restarted));
        Assert.Equal(await LedgerAsync(uninterrupted), await LedgerAsync(restarted));
        Assert.Equal(
            await uninterrupted.RawColumnAsync<string>("SELECT encounter_id || ':' || source_line FROM raw_encounters ORDER BY encounter_id"),
            await restarted.RawColumnAsync<string>("SELECT encounter_id || ':' || source_line FROM raw_encounters ORDER BY encounter_id"));

        // Once every batch is loaded the local file is gone
        Assert.False(File.Exists(trainFile));
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
