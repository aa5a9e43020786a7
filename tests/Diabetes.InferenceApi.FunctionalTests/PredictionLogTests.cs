extern alias inference;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Data;
using Diabetes.Core.Modeling;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using inference::Diabetes.InferenceApi.Apis;
using inference::Diabetes.InferenceApi.Monitoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// Every answered prediction is logged in the database <c>monitoring</c> of the real PostgreSQL, and logging never
/// fails or holds up an answer: PostgreSQL down, the queue full, retention and a graceful stop.
/// </summary>
public class PredictionLogTests
{
    [Fact]
    public async Task EverySinglePredictionAndEachOfABatchIsLoggedUnderItsIdWithTheInputsTheModelRead()
    {
        // Arrange
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings());
        using var written = Counter(app, "diabetes.prediction_log.written");
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree);
        await app.WaitForVersionAsync(version.Version);
        var encounters = TestEncounters.All.Skip(40).Take(21).ToArray();
        var before = DateTimeOffset.UtcNow;

        // Act: one single prediction, and a batch of twenty
        var single = await app.PredictOkAsync(TestEncounters.Request(encounters[0].Raw));
        using var batchResponse = await app.PredictAsync(new JsonArray(encounters.Skip(1).Select(e => (JsonNode)TestEncounters.Request(e.Raw)).ToArray()),
            "/api/predictions/batch");
        var batch = (await batchResponse.Content.ReadFromJsonAsync<PredictionResponse[]>())!;
        var after = DateTimeOffset.UtcNow;

        // Assert: 21 distinct ids answered, and each one's row found from the id alone
        Assert.Equal(HttpStatusCode.OK, batchResponse.StatusCode);
        PredictionResponse[] answers = [single, .. batch];
        Assert.Equal(21, answers.Select(a => a.PredictionId).Distinct().Count());
        await Poll.UntilAsync(async () => await database.CountAsync() == 21, "the 21 predictions to be logged");
        Assert.Equal(21, written.GetMeasurementSnapshot().Sum(m => m.Value));
        await using var connection = await database.OpenAsync();
        foreach (var (answer, (_, input)) in answers.Zip(encounters))
        {
            var at = PredictionIds.TimeOf(answer.PredictionId);
            Assert.InRange(at, before.AddMilliseconds(-1), after);
            await using var command = connection.CreateCommand("SELECT * FROM predictions WHERE prediction_id = @id AND predicted_at = @at",
                ("id", answer.PredictionId), ("at", at));
            await using var row = await command.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync(), $"No row for {answer.PredictionId} at {at:O}");
            Assert.Equal((ModelArtifacts.RegisteredModelName, 1), (row.GetString(row.GetOrdinal("model_name")), row.GetInt32(row.GetOrdinal("model_version"))));
            Assert.Equal(answer.Probability, row.GetDouble(row.GetOrdinal("probability")));
            Assert.Equal(answer.Threshold, row.GetDouble(row.GetOrdinal("threshold")));
            Assert.Equal(answer.ReadmittedWithin30Days, row.GetBoolean(row.GetOrdinal("predicted_readmitted")));
            Assert.All(PredictionTable.InputColumns, c => Assert.Equal(c.Value(input), row.GetValue(row.GetOrdinal(c.Name))));
        }

        // Assert: a column for every input the model reads (each kept medication on its own)
        Assert.Equal(ModelInput.CategoricalColumns.Length + EncounterCleaner.KeptMedications.Count,
            PredictionTable.InputColumns.Count(c => c.Type == NpgsqlTypes.NpgsqlDbType.Text));
        Assert.Equal(ModelInput.NumericColumns.Length, PredictionTable.InputColumns.Count(c => c.Type == NpgsqlTypes.NpgsqlDbType.Real));
    }

    [Fact]
    public async Task WhilePostgresIsDownPredictionsAreAnsweredDropsAreCountedHealthIsDegradedAndLoggingResumesWhenItIsBack()
    {
        // Arrange: a small queue, and the log working
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings(("Monitoring:QueueCapacity", "10"), ("Monitoring:BatchSize", "5")));
        using var dropped = Counter(app, "diabetes.prediction_log.dropped");
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var request = TestEncounters.Request(TestEncounters.All[5].Raw);
        var first = await app.PredictOkAsync(request);
        await Poll.UntilAsync(async () => await database.CountAsync() == 1, "the first prediction to be logged");
        await app.WaitForHealthAsync("Healthy");

        // Act: PostgreSQL refuses the log's connections while forty predictions are asked for
        await database.SetReachableAsync(false);
        var answered = new List<Guid> { first.PredictionId };
        for (var i = 0; i < 40; i++)
        {
            answered.Add((await app.PredictOkAsync(request)).PredictionId);
        }

        // Assert: every one answered; what fits neither the writer's batch (5) nor the queue (10) is dropped and counted
        var lost = dropped.GetMeasurementSnapshot().Sum(m => m.Value);
        Assert.InRange(lost, 40 - 15, 40);
        Assert.All(dropped.GetMeasurementSnapshot(), m => Assert.Equal(PredictionLog.QueueFull, m.Tags["reason"]));
        await Poll.UntilAsync(async () => (await LogHealthAsync(app)).StartsWith("The prediction log cannot be written since", StringComparison.Ordinal),
            "the health check to say that the log cannot be written");
        await app.WaitForHealthAsync("Degraded");

        // Act: PostgreSQL takes connections again
        await database.SetReachableAsync(true);

        // Assert: what was kept is written, and the writer said once that it stopped and once that it resumed
        await Poll.UntilAsync(async () => await database.CountAsync() == answered.Count - lost, $"the {answered.Count - lost} kept predictions to be logged");
        await Poll.UntilAsync(async () => !(await LogHealthAsync(app)).StartsWith("The prediction log cannot be written", StringComparison.Ordinal),
            "the health check to say that the log is written again");
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand("SELECT prediction_id FROM predictions");
        await using var rows = await command.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            Assert.Contains(rows.GetGuid(0), answered);
        }

        var writerLog = app.Logs.GetSnapshot().Where(r => r.Category == typeof(PredictionLogWriter).FullName).ToArray();
        Assert.Single(writerLog, r => r.Level == LogLevel.Warning);
        Assert.Single(writerLog, r => r.Message.StartsWith("The prediction log is written again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithNoPostgresAtTheLogsAddressPredictionsAreAnsweredAndWhatCannotBeLoggedIsCountedUpToTheStop()
    {
        // Arrange: nothing listens on port 9; a stop waits 2 s at most
        await using var app = await InferenceApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:monitoring"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=monitoring;Timeout=2",
            ["Monitoring:QueueCapacity"] = "5",
            ["Monitoring:BatchSize"] = "5",
            ["shutdownTimeoutSeconds"] = "2",
        });
        using var dropped = Counter(app, "diabetes.prediction_log.dropped");
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var logs = app.Logs;

        // Act
        var answers = new List<PredictionResponse>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add(await app.PredictOkAsync(TestEncounters.Request(TestEncounters.All[i].Raw)));
        }

        // Assert: all answered; what fits neither the writer's batch (5) nor the queue (5) dropped at once
        Assert.Equal(20, answers.Select(a => a.PredictionId).Distinct().Count());
        var full = dropped.GetMeasurementSnapshot().Sum(m => m.Value);
        Assert.InRange(full, 20 - 10, 20);
        await app.WaitForHealthAsync("Degraded");

        // Act: the service stops while the writer still cannot write
        await app.DisposeAsync();

        // Assert: the rest counted as dropped by the stop, and said so
        var stopped = dropped.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], PredictionLog.Stopped)).Sum(m => m.Value);
        Assert.Equal((20, 20 - full), (dropped.GetMeasurementSnapshot().Sum(m => m.Value), stopped));
        Assert.Contains(logs.GetSnapshot(), r => r.Message == $"{20 - full} predictions were not logged: the service stopped before PostgreSQL took them");
    }

    [Fact]
    public async Task RetentionDropsTheDaysOlderThanRetentionDaysAndKeepsTheOthers()
    {
        // Arrange: a log with today's and the next days' partitions, then a day 100 days old, one 10 days old (a
        // prediction and its outcome in each), and a table of an old day left detached
        var database = await MonitoringDatabase.CreateAsync();
        var today = PredictionPartitions.DayOf(DateTimeOffset.UtcNow);
        await using (var first = await InferenceApp.StartAsync(settings: database.Settings()))
        {
            _ = first.Server;
            await Poll.UntilAsync(async () => (await database.PartitionsAsync()).Contains(PredictionPartitions.NameOf(today.AddDays(PredictionLogMaintenance.DaysAhead))),
                "today's and the next days' partitions");
        }

        var old = today.AddDays(-100);
        var recent = today.AddDays(-10);
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await new PredictionPartitions(dataSource).EnsureAsync([old, recent], CancellationToken.None);
            await using var connection = await dataSource.OpenConnectionAsync();
            await PredictionTable.CopyAsync(connection, [Logged(old), Logged(recent)], CancellationToken.None);
            await connection.ExecuteAsync("""
                INSERT INTO outcomes (prediction_id, predicted_at, model_name, model_version, probability, predicted_readmitted, readmitted_within_30_days, recorded_at)
                SELECT prediction_id, predicted_at, model_name, model_version, probability, predicted_readmitted, true, now() FROM predictions
                """, CancellationToken.None);
            await connection.ExecuteAsync($"CREATE TABLE {PredictionPartitions.NameOf(today.AddDays(-95))} (LIKE predictions)", CancellationToken.None);
        }

        // Act: the service starts again, with the default retention of 90 days
        await using var second = await InferenceApp.StartAsync(settings: database.Settings());
        _ = second.Server;

        // Assert: the old day's predictions and outcomes gone, the recent day's kept
        await Poll.UntilAsync(async () => !(await database.PartitionsAsync("outcomes")).Contains(PredictionPartitions.NameOf(old, "outcomes")),
            "the old day to be dropped");
        Assert.DoesNotContain(PredictionPartitions.NameOf(old), await database.PartitionsAsync());
        Assert.Contains(PredictionPartitions.NameOf(recent), await database.PartitionsAsync());
        Assert.Contains(PredictionPartitions.NameOf(recent, "outcomes"), await database.PartitionsAsync("outcomes"));
        Assert.Equal((1, 1), (await database.CountAsync(), await database.CountAsync("outcomes")));
        await using var check = await database.OpenAsync();
        Assert.Equal(0, await check.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname IN (@old, @oldOutcomes, @detached)", CancellationToken.None,
            ("old", PredictionPartitions.NameOf(old)), ("oldOutcomes", PredictionPartitions.NameOf(old, "outcomes")),
            ("detached", PredictionPartitions.NameOf(today.AddDays(-95)))));
    }

    [Fact]
    public async Task AGracefulStopWritesWhatIsQueued()
    {
        // Arrange: the writer held up on a batch by a lock of the table, and thirty predictions queued behind it
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings());
        using var dropped = Counter(app, "diabetes.prediction_log.dropped");
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var request = TestEncounters.Request(TestEncounters.All[9].Raw);
        await app.PredictOkAsync(request);
        await Poll.UntilAsync(async () => await database.CountAsync() == 1, "the first prediction to be logged");
        await using var locker = await database.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE", CancellationToken.None);
        await app.PredictOkAsync(request);
        await Poll.UntilAsync(async () =>
        {
            await using var observer = await database.OpenAsync();
            return await observer.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                CancellationToken.None) > 0;
        }, "the writer to wait for the table");
        for (var i = 0; i < 30; i++)
        {
            await app.PredictOkAsync(request);
        }

        var logs = app.Logs;

        // Act: the service stops; the table is let go once the writer has been told to stop
        var stopping = app.DisposeAsync().AsTask();
        await Poll.UntilAsync(() => logs.GetSnapshot().Any(r => r.Message == "Stopping: writing the 30 predictions still queued"), "the writer to be told to stop");
        await transaction.RollbackAsync();
        await stopping;

        // Assert
        Assert.Equal(32, await database.CountAsync());
        Assert.Empty(dropped.GetMeasurementSnapshot());
    }

    [Theory]
    [InlineData("Monitoring:RetentionDays", "0", "Monitoring:RetentionDays must be at least 1.")]
    [InlineData("Monitoring:QueueCapacity", "0", "Monitoring:QueueCapacity must be at least 1.")]
    [InlineData("Monitoring:BatchSize", "50001", "Monitoring:BatchSize must be at least 1 and at most Monitoring:QueueCapacity.")]
    [InlineData("Monitoring:MinimumOutcomes", "0", "Monitoring:MinimumOutcomes must be at least 1.")]
    public async Task ASettingOutOfRangeStopsTheStartNamingTheKey(string key, string value, string message)
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync(settings: new Dictionary<string, string?> { [key] = value });

        // Act
        var error = Assert.ThrowsAny<Exception>(() => app.Server);

        // Assert
        Assert.Contains(message, error.ToString());
    }

    private static MetricCollector<long> Counter(InferenceApp app, string name) =>
        new(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Diabetes.InferenceApi", name);

    /// <summary>What the prediction log's readiness check says.</summary>
    private static async Task<string> LogHealthAsync(InferenceApp app) =>
        (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "prediction-log")).Entries["prediction-log"].Description!;

    /// <summary>A prediction as the log keeps it, made at noon of <paramref name="day"/>.</summary>
    private static LoggedPrediction Logged(DateOnly day)
    {
        var (id, at) = PredictionIds.New(new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero));
        return new LoggedPrediction(id, at, ModelArtifacts.RegisteredModelName, "1", 0.25, 0.5, false, TestEncounters.All[0].Input, Reference: null);
    }
}
