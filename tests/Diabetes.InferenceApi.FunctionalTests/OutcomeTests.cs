extern alias inference;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Data;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using inference::Diabetes.InferenceApi.Apis;
using inference::Diabetes.InferenceApi.Monitoring;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// Outcomes reported against logged predictions, in the database <c>monitoring</c> of the real PostgreSQL: recorded
/// once, the same again accepted, a different one refused, an unknown id and a bad body answered as such.
/// </summary>
public class OutcomeTests
{
    [Fact]
    public async Task AnOutcomeIsRecordedOnceTheSameAgainIsAcceptedAndADifferentOneIsAConflict()
    {
        // Arrange: one prediction, logged
        var (app, database) = await StartLoggedAsync();
        await using var _ = app;
        var prediction = (await PredictLoggedAsync(app, database, 1))[0];
        var path = $"/api/predictions/{prediction.PredictionId}/outcome";

        // Act
        using var first = await app.PostJsonAsync(path, """{"readmittedWithin30Days": true}""");
        using var again = await app.PostJsonAsync(path, """{"readmittedWithin30Days": true}""");
        using var different = await app.PostJsonAsync(path, """{"readmittedWithin30Days": false}""");

        // Assert: 204, 204, and a 409 that says both outcomes; the first stays, with the prediction it is about
        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.NoContent), (first.StatusCode, again.StatusCode));
        var conflict = await ProblemAsync(different, HttpStatusCode.Conflict);
        Assert.Equal("Another outcome is on record", conflict.Title);
        Assert.Contains("readmittedWithin30Days is true on record, and false was sent", conflict.Detail);
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand(
            "SELECT model_version, probability, predicted_readmitted, readmitted_within_30_days, predicted_at FROM outcomes WHERE prediction_id = @id",
            ("id", prediction.PredictionId));
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal((int.Parse(prediction.Model.Version), prediction.Probability, prediction.ReadmittedWithin30Days, true),
            (row.GetInt32(0), row.GetDouble(1), row.GetBoolean(2), row.GetBoolean(3)));
        Assert.Equal(PredictionIds.TimeOf(prediction.PredictionId), row.GetFieldValue<DateTimeOffset>(4));
        Assert.False(await row.ReadAsync());
    }

    [Fact]
    public async Task AnIdThatIsNotOfAPredictionInTheLogIs404()
    {
        // Arrange: a logged prediction, so that the log and its partitions exist
        var (app, database) = await StartLoggedAsync();
        await using var _ = app;
        await PredictLoggedAsync(app, database, 1);
        var ids = new Dictionary<string, string>
        {
            ["an id never answered"] = Guid.CreateVersion7().ToString(),
            ["a UUID that is not version 7"] = Guid.NewGuid().ToString(),
            ["an id of a day past the retention"] = Guid.CreateVersion7(DateTimeOffset.UtcNow.AddDays(-200)).ToString(),
            ["an id whose time is past the year 9999"] = "ffffffff-ffff-7fff-bfff-ffffffffffff",
            ["not a UUID"] = "not-a-prediction",
        };

        foreach (var (what, id) in ids)
        {
            // Act
            using var response = await app.PostJsonAsync($"/api/predictions/{id}/outcome", """{"readmittedWithin30Days": false}""");

            // Assert
            var problem = await ProblemAsync(response, HttpStatusCode.NotFound, what);
            Assert.Equal("No such prediction", problem.Title);
            Assert.Contains(id, problem.Detail);
        }

        Assert.Equal(0, await database.CountAsync("outcomes"));
    }

    [Fact]
    public async Task ABadBodyIsA400NamingTheField()
    {
        // Arrange
        var (app, database) = await StartLoggedAsync();
        await using var _ = app;
        var path = $"/api/predictions/{(await PredictLoggedAsync(app, database, 1))[0].PredictionId}/outcome";
        (string Body, string Field, string Message)[] bodies =
        [
            ("{}", "readmittedWithin30Days", "is required"),
            ("""{"readmittedWithin30Days": "yes"}""", "readmittedWithin30Days", "must be true or false, not a string"),
            ("""{"readmittedWithin30Days": 1}""", "readmittedWithin30Days", "must be true or false, not a number"),
            ("""{"readmittedWithin30Days": null}""", "readmittedWithin30Days", "must be true or false, not null"),
            ("""{"readmittedWithin30Days": true, "readmitted": true}""", "readmitted", "is not a field of an outcome"),
            ("""{"readmittedWithin30Days": true, "readmittedWithin30Days": false}""", "readmittedWithin30Days", "is sent more than once"),
            ("[true]", "$", "must be a JSON object, not an array"),
            ("{readmittedWithin30Days: true", "$", "is not valid JSON"),
        ];

        foreach (var (body, field, message) in bodies)
        {
            // Act
            using var response = await app.PostJsonAsync(path, body);

            // Assert
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)response.StatusCode}");
            var problem = (await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!;
            Assert.True(problem.Errors.TryGetValue(field, out var messages), $"{body}: no error for {field}: {string.Join("; ", problem.Errors.Keys)}");
            Assert.Contains(messages, m => m.Contains(message, StringComparison.Ordinal));
        }

        Assert.Equal(0, await database.CountAsync("outcomes"));
    }

    [Fact]
    public async Task AListIsAnsweredItemByItemInOneGo()
    {
        // Arrange: four logged predictions, the first with an outcome on record
        var (app, database) = await StartLoggedAsync();
        await using var _ = app;
        var ids = (await PredictLoggedAsync(app, database, 4)).Select(p => p.PredictionId.ToString()).ToArray();
        using var earlier = await app.PostJsonAsync($"/api/predictions/{ids[0]}/outcome", """{"readmittedWithin30Days": true}""");
        Assert.Equal(HttpStatusCode.NoContent, earlier.StatusCode);
        var unknown = Guid.CreateVersion7().ToString();
        var list = $$"""
            [
              {"predictionId": "{{ids[0]}}", "readmittedWithin30Days": true},
              {"predictionId": "{{ids[1]}}", "readmittedWithin30Days": false},
              {"predictionId": "{{ids[2]}}", "readmittedWithin30Days": true},
              {"predictionId": "{{ids[0]}}", "readmittedWithin30Days": false},
              {"predictionId": "{{unknown}}", "readmittedWithin30Days": true},
              {"predictionId": "{{ids[2]}}", "readmittedWithin30Days": true},
              {"predictionId": "{{ids[1]}}", "readmittedWithin30Days": true},
              {"predictionId": "{{ids[3]}}"},
              {"predictionId": "{{ids[3]}}", "readmittedWithin30Days": "no"},
              {"predictionId": 12, "readmittedWithin30Days": true},
              {"predictionId": "P-1", "readmittedWithin30Days": true},
              "{{ids[3]}}"
            ]
            """;

        // Act
        using var response = await app.PostJsonAsync("/api/outcomes", list);

        // Assert: each item's status in the order sent (a repeat judged against the list's first report), and the counts
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = (await response.Content.ReadFromJsonAsync<OutcomesResponse>())!;
        Assert.Equal(
            [
                (ids[0], "already recorded", (bool?)true), (ids[1], "recorded", false), (ids[2], "recorded", true), (ids[0], "conflict", true),
                (unknown, "unknown", null), (ids[2], "already recorded", true), (ids[1], "conflict", false), (ids[3], "invalid", null),
                (ids[3], "invalid", null), (null, "invalid", null), ("P-1", "invalid", null), (null, "invalid", null),
            ],
            answer.Items.Select(i => (i.PredictionId, i.Status, i.OnRecord)));
        Assert.Equal((2, 2, 2, 1, 5), (answer.Recorded, answer.AlreadyRecorded, answer.Conflict, answer.Unknown, answer.Invalid));
        Assert.Equal(
            ["readmittedWithin30Days is true on record, and false was sent; it is not changed", "readmittedWithin30Days is required: true or false",
                "readmittedWithin30Days must be true or false, not a string", "predictionId must be a prediction id (a UUID in a JSON string), not a number",
                "predictionId 'P-1' is not a prediction id (a UUID)", "must be a JSON object, not a string"],
            answer.Items.Where((item, index) => index is 3 or >= 7).Select(i => i.Detail!));
        Assert.Equal(new Dictionary<Guid, bool> { [Guid.Parse(ids[0])] = true, [Guid.Parse(ids[1])] = false, [Guid.Parse(ids[2])] = true },
            await database.OutcomesAsync());
    }

    [Fact]
    public async Task AListThatIsNotAnArrayOfOneToAThousandIsA400()
    {
        // Arrange
        var (app, _) = await StartLoggedAsync();
        await using var __ = app;
        var item = $$"""{"predictionId": "{{Guid.CreateVersion7()}}", "readmittedWithin30Days": true}""";
        var bodies = new Dictionary<string, string>
        {
            ["""{"predictionId": "x", "readmittedWithin30Days": true}"""] = "must be a JSON array of outcomes",
            ["[]"] = "holds 0 outcomes; a list holds 1 to 1,000",
            [$"[{string.Join(",", Enumerable.Repeat(item, 1_001))}]"] = "holds 1,001 outcomes; a list holds 1 to 1,000",
            ["[{"] = "is not valid JSON",
        };

        foreach (var (body, message) in bodies)
        {
            // Act
            using var response = await app.PostJsonAsync("/api/outcomes", body);

            // Assert
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!;
            Assert.Contains(problem.Errors["$"], m => m.Contains(message, StringComparison.Ordinal));
        }

        // Assert: a full list of unknown ids is answered item by item
        using var full = await app.PostJsonAsync("/api/outcomes", $"[{string.Join(",", Enumerable.Repeat(item, 1_000))}]");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(1_000, (await full.Content.ReadFromJsonAsync<OutcomesResponse>())!.Unknown);
    }

    [Fact]
    public async Task WithoutALogOrWithItsPostgresDownOutcomesAndPerformanceAre503()
    {
        // Arrange: one service without a log, one whose log's address has no server (nothing listens on port 9)
        await using var withoutLog = await InferenceApp.StartAsync();
        await using var logDown = await InferenceApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:monitoring"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=monitoring;Timeout=2",
        });
        var id = Guid.CreateVersion7();

        foreach (var (app, title) in new[] { (withoutLog, "The prediction log is off"), (logDown, "The prediction log is unavailable") })
        {
            // Act
            using var outcome = await app.PostJsonAsync($"/api/predictions/{id}/outcome", """{"readmittedWithin30Days": true}""");
            using var list = await app.PostJsonAsync("/api/outcomes", $$"""[{"predictionId": "{{id}}", "readmittedWithin30Days": true}]""");
            using var performance = await app.CreateClient().GetAsync("/api/monitoring/performance?version=1");

            // Assert
            foreach (var response in new[] { outcome, list, performance })
            {
                Assert.Equal(title, (await ProblemAsync(response, HttpStatusCode.ServiceUnavailable, title)).Title);
            }
        }
    }

    [Fact]
    public async Task TheDaysLoggedBeforeOutcomesExistedGetTheirDaysOfOutcomes()
    {
        // Arrange: a log migrated and partitioned, then set back to before the outcomes (their table and migration gone)
        // with a day ten days old added
        var database = await MonitoringDatabase.CreateAsync();
        var today = PredictionPartitions.DayOf(DateTimeOffset.UtcNow);
        var old = today.AddDays(-10);
        await using (var first = await InferenceApp.StartAsync(settings: database.Settings()))
        {
            _ = first.Server;
            await Poll.UntilAsync(async () => (await database.PartitionsAsync("outcomes")).Count == PredictionLogMaintenance.DaysAhead + 1,
                "today's and the next days' partitions");
        }

        await using (var connection = await database.OpenAsync())
        {
            await connection.ExecuteAsync("""
                DROP TABLE outcomes;
                DELETE FROM "__MonitoringMigrationsHistory" WHERE "MigrationId" LIKE '%_OutcomesTable';
                """, CancellationToken.None);
            await connection.ExecuteAsync($"CREATE TABLE {PredictionPartitions.NameOf(old)} PARTITION OF predictions FOR VALUES FROM ('{old:yyyy-MM-dd} 00:00+00') TO ('{old.AddDays(1):yyyy-MM-dd} 00:00+00')",
                CancellationToken.None);
        }

        // Act: the service starts again and migrates
        await using var second = await InferenceApp.StartAsync(settings: database.Settings());
        _ = second.Server;

        // Assert: every day of predictions has its day of outcomes
        var expected = (await database.PartitionsAsync()).Select(name => name.Replace("predictions_", "outcomes_", StringComparison.Ordinal)).ToArray();
        Assert.Contains(PredictionPartitions.NameOf(old, "outcomes"), expected);
        await Poll.UntilAsync(async () => (await database.PartitionsAsync("outcomes")).SequenceEqual(expected), "a day of outcomes for each day of predictions");
    }

    /// <summary>The service with a prediction log in a fresh database, serving a published model.</summary>
    internal static async Task<(InferenceApp App, MonitoringDatabase Database)> StartLoggedAsync(params (string Key, string Value)[] settings)
    {
        var database = await MonitoringDatabase.CreateAsync();
        var app = await InferenceApp.StartAsync(settings: database.Settings(settings));
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        return (app, database);
    }

    /// <summary>Predictions for <paramref name="count"/> encounters from the <paramref name="skip"/>-th on, once all are in the log.</summary>
    internal static async Task<PredictionResponse[]> PredictLoggedAsync(InferenceApp app, MonitoringDatabase database, int count, int skip = 10_000)
    {
        var before = await database.CountAsync();
        var answers = await app.PredictBatchOkAsync(TestEncounters.All.Skip(skip).Take(count).Select(e => (JsonNode)TestEncounters.Request(e.Raw)));
        await Poll.UntilAsync(async () => await database.CountAsync() == before + count, $"the {count} predictions to be logged");
        return answers;
    }

    private static async Task<ProblemDetails> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? what = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{what}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<ProblemDetails>(body, JsonSerializerOptions.Web)!;
    }
}
