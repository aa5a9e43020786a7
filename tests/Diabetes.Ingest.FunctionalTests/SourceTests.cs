using System.IO.Compression;
using System.Net.Http.Json;
using Diabetes.Core.Encounters;
using Diabetes.Ingest.Apis;
using Diabetes.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>Bad input: malformed lines, files that are not the dataset, failures half-way.</summary>
public class SourceTests
{
    private static IEnumerable<string> FirstLines(int dataLines) => TestData.CsvLines.Take(dataLines + 1);

    private static string WithField(string line, string field, string value)
    {
        var fields = line.Split(',');
        fields[EncounterSchema.Get(field).Ordinal] = value;
        return string.Join(',', fields);
    }

    [Fact]
    public async Task LoadsTheGoodLinesAndRejectsTheMalformedOnesWithTheirReasons()
    {
        // Arrange: 300 good lines (a validation one with a quoted comma), then five bad ones, the unterminated quote last
        var good = FirstLines(300).ToList();
        var quoted = good.FindIndex(1, line => SplitRule.Assign(long.Parse(line.Split(',')[1])) == DatasetSplit.Validation);
        good[quoted] = WithField(good[quoted], "medical_specialty", "\"Family, Practice\"");
        var lines = good.Concat(
        [
            string.Join(',', TestData.CsvLines[400].Split(',').Skip(1)),        // line 302: a field short
            WithField(TestData.CsvLines[401], "encounter_id", "12ab"),          // line 303
            WithField(TestData.CsvLines[402], "patient_nbr", ""),               // line 304
            TestData.CsvLines[5],                                               // line 305: encounter of line 6 again
            WithField(TestData.CsvLines[403], "payer_code", "\"MC"),            // line 306: quote never closed
        ]);
        var path = TestData.WriteTempFile(lines);
        await using var app = await IngestApp.StartAsync(path, batchSize: 100);

        // Act
        var prepared = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");

        // Assert
        Assert.Equal(300, prepared.Rows);
        Assert.Equal(5, prepared.RejectedRows);
        Assert.Equal((prepared.Train.Rows + 99) / 100, prepared.Train.Batches);
        var reasons = await app.RawColumnAsync<string>("SELECT line_number || ': ' || reason FROM rejected_rows ORDER BY line_number");
        Assert.Equal(
        [
            "302: expected 50 fields, found 49",
            "303: encounter_id '12ab' is not a positive whole number",
            "304: patient_nbr '' is not a positive whole number",
            $"305: duplicate encounter_id {TestData.CsvLines[5].Split(',')[0]} (first on line 6)",
            "306: unterminated quoted field",
        ], reasons);
        Assert.Equal(TestData.CsvLines[401].Split(',')[1], (await app.RawColumnAsync<string>("SELECT content FROM rejected_rows WHERE line_number = 303"))[0].Split(',')[1]);
        Assert.Equal("Family, Practice", await app.RawScalarAsync<string>(
            $"SELECT medical_specialty FROM raw_encounters WHERE encounter_id = {good[quoted].Split(',')[0]}"));

        var profile = await app.GetAsync<ProfileResponse>("/api/dataset/profile");
        Assert.Equal(5, profile.RejectedRows);
        Assert.Equal([302L, 303L, 304L, 305L, 306L], profile.RejectedSample.Select(r => r.LineNumber));
    }

    public static TheoryData<string, string, string> WrongFiles => new()
    {
        { "missing columns", ".csv", "lacks 2 of the dataset's 50 columns: race, readmitted" },
        { "empty", ".csv", "empty" },
        { "header only", ".csv", "no usable rows" },
        { "not text", ".png", "lacks 50 of the dataset's 50 columns" },
        { "archive without the data", ".zip", "holds no diabetic_data.csv" },
        { "broken archive", ".zip", "cannot be read" },
    };

    [Theory]
    [MemberData(nameof(WrongFiles))]
    public async Task RefusesAFileThatIsNotTheDatasetAndLoadsNothing(string kind, string extension, string reason)
    {
        // Arrange
        await using var app = await IngestApp.StartAsync(MakeWrongFile(kind, extension));

        // Act
        var problem = await app.PostExpectingProblemAsync("/api/dataset/prepare", StatusCodes.Status422UnprocessableEntity);

        // Assert
        Assert.Equal("The source is not the expected dataset", problem.Title);
        Assert.Contains(reason, problem.Detail);
        Assert.Equal(0, await app.RawScalarAsync<long>("SELECT count(*) FROM dataset_sources"));
        Assert.Equal(0, await app.RawScalarAsync<long>("SELECT count(*) FROM raw_encounters"));
        Assert.Equal(0, await app.RawScalarAsync<long>("SELECT count(*) FROM ingest_batches"));
    }

    private static string MakeWrongFile(string kind, string extension)
    {
        switch (kind)
        {
            case "missing columns":
                return TestData.WriteTempFile(FirstLines(20).Select(line =>
                    string.Join(',', line.Split(',').Where((_, i) => i != 2 && i != 49))));
            case "empty":
                return TestData.WriteTempFile(Array.Empty<byte>(), extension);
            case "header only":
                return TestData.WriteTempFile(FirstLines(0));
            case "not text":
                return TestData.WriteTempFile([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D], extension);
            case "archive without the data":
                using (var stream = new MemoryStream())
                {
                    using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
                    {
                        using var writer = new StreamWriter(archive.CreateEntry("dataset_diabetes/IDs_mapping.csv").Open());
                        writer.Write("admission_type_id,description\n1,Emergency\n");
                    }

                    return TestData.WriteTempFile(stream.ToArray(), extension);
                }

            case "broken archive":
                return TestData.WriteTempFile([.. "PK\u0003\u0004"u8, .. new byte[100]], extension);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    [Fact]
    public async Task RefusesAnotherSourceOnceRawDataHoldsOne()
    {
        // Arrange
        await using var first = await IngestApp.StartAsync(TestData.WriteTempFile(FirstLines(50)));
        var prepared = await first.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await using var second = first.WithSource(TestData.WriteTempFile(FirstLines(60)));
        // Both databases migrated (the status reads both), so that the snapshot sees rows, not start-up work.
        await second.GetAsync<StatusResponse>("/api/dataset/status");
        var before = await first.SnapshotAsync();

        // Act
        var problem = await second.PostExpectingProblemAsync("/api/dataset/prepare", StatusCodes.Status409Conflict);

        // Assert
        Assert.Equal("RAW DATA holds another source", problem.Title);
        Assert.Contains(prepared.SourceSha256, problem.Detail);
        Assert.Equal(before, await second.SnapshotAsync());
    }

    [Fact]
    public async Task ABatchThatClashesWithRowsAlreadyLoadedIsAConflictLeavesNoTraceAndLoadsWhenCalledAgain()
    {
        // Arrange: a row with the id of batch 2's first encounter makes that batch's COPY fail half-way
        await using var app = await IngestApp.StartAsync(TestData.WriteTempFile(FirstLines(400)), batchSize: 100);
        await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        await app.PostAsync<NextBatchResponse>("/api/batches/next");
        var trainIds = await app.RawColumnAsync<long>("SELECT encounter_id FROM raw_encounters WHERE split = 'train' ORDER BY encounter_id");
        var lastOfBatch1 = trainIds.Max();
        var blocker = await BlockNextTrainEncounterAsync(app, lastOfBatch1);
        var before = await app.SnapshotAsync();

        // Act
        using var failed = await app.CreateClient().PostAsync("/api/batches/next", null);

        // Assert: a conflict that says so (not a 500), and nothing of batch 2 was kept
        Assert.Equal(StatusCodes.Status409Conflict, (int)failed.StatusCode);
        var problem = (await failed.Content.ReadFromJsonAsync<ProblemDetails>())!;
        Assert.Equal("Rows already loaded", problem.Title);
        Assert.Contains("raw_encounters_pkey", problem.Detail);
        Assert.Equal(before, await app.SnapshotAsync());
        Assert.Equal(1, await app.RawScalarAsync<long>("SELECT count(*) FROM ingest_batches WHERE split = 'train'"));

        // Once the conflict is gone the same batch loads whole
        await app.RawExecuteAsync($"DELETE FROM raw_encounters WHERE encounter_id = {blocker}");
        var retried = await app.PostAsync<NextBatchResponse>("/api/batches/next");
        Assert.Equal(2, retried.BatchNumber);
        Assert.Equal(100, retried.Rows);
        Assert.Equal(200, await app.RawScalarAsync<long>("SELECT count(*) FROM raw_encounters WHERE split = 'train'"));
    }

    /// <summary>Inserts a validation-split row with the id batch 2 will load first; answers that id.</summary>
    private static async Task<long> BlockNextTrainEncounterAsync(IngestApp app, long lastLoadedTrainId)
    {
        var nextTrainId = TestData.CsvLines.Skip(1).Take(400)
            .Select(line => line.Split(','))
            .Where(f => SplitRule.Assign(long.Parse(f[1])) == DatasetSplit.Train && long.Parse(f[0]) > lastLoadedTrainId)
            .Min(f => long.Parse(f[0]));
        await app.RawExecuteAsync($"""
            INSERT INTO raw_encounters
            SELECT {nextTrainId}, patient_nbr, race, gender, age, weight, admission_type_id, discharge_disposition_id,
                   admission_source_id, time_in_hospital, payer_code, medical_specialty, num_lab_procedures, num_procedures,
                   num_medications, number_outpatient, number_emergency, number_inpatient, diag_1, diag_2, diag_3,
                   number_diagnoses, max_glu_serum, a1cresult, metformin, repaglinide, nateglinide, chlorpropamide,
                   glimepiride, acetohexamide, glipizide, glyburide, tolbutamide, pioglitazone, rosiglitazone, acarbose,
                   miglitol, troglitazone, tolazamide, examide, citoglipton, insulin, glyburide_metformin,
                   glipizide_metformin, glimepiride_pioglitazone, metformin_rosiglitazone, metformin_pioglitazone,
                   change, diabetesmed, readmitted, split, batch_number, source_line, loaded_at
            FROM raw_encounters WHERE split = 'validation' LIMIT 1
            """);
        return nextTrainId;
    }

    [Fact]
    public async Task RefusesBatchesAndCleaningBeforeTheDatasetIsPrepared()
    {
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip);

        var batch = await app.PostExpectingProblemAsync("/api/batches/next", StatusCodes.Status409Conflict);
        var clean = await app.PostExpectingProblemAsync("/api/clean", StatusCodes.Status409Conflict);

        Assert.Contains("/api/dataset/prepare", batch.Detail);
        Assert.Contains("/api/dataset/prepare", clean.Detail);
    }

    [Fact]
    public async Task AMissingSourceFileIsUnprocessableAndNamesThePath()
    {
        await using var app = await IngestApp.StartAsync("/nonexistent/dataset_diabetes.zip");

        var problem = await app.PostExpectingProblemAsync("/api/dataset/prepare", StatusCodes.Status422UnprocessableEntity);

        Assert.Equal("The dataset source does not exist", problem.Title);
        Assert.Contains("there is no file /nonexistent/dataset_diabetes.zip", problem.Detail);
        Assert.Equal(0, await app.RawScalarAsync<long>("SELECT count(*) FROM raw_encounters"));
    }

    [Fact]
    public async Task HealthSaysWhenTheObjectStoreIsDownWhileTheServiceStaysAlive()
    {
        // Arrange: nothing listens on port 9 of the loopback
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip,
            minioConnectionString: "Endpoint=http://127.0.0.1:9;AccessKey=test;SecretKey=test");
        var client = app.CreateClient();

        // Act
        using var health = await client.GetAsync("/health");
        using var alive = await client.GetAsync("/alive");

        // Assert
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, (int)health.StatusCode);
        Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync());
        Assert.Equal(StatusCodes.Status200OK, (int)alive.StatusCode);
    }

    [Fact]
    public async Task AnswersServiceUnavailableWhenPostgresIsDownAndSaysSoInHealth()
    {
        // Arrange: RAW DATA points at a port nothing listens on
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip,
            rawConnectionString: "Host=127.0.0.1;Port=9;Username=postgres;Database=rawdata;Timeout=2");

        // Act: tried again with back-off before giving up
        var problem = await app.PostExpectingProblemAsync("/api/dataset/prepare", StatusCodes.Status503ServiceUnavailable);
        using var health = await app.CreateClient().GetAsync("/health");

        // Assert
        Assert.Equal("Storage is unavailable", problem.Title);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, (int)health.StatusCode);
    }
}
