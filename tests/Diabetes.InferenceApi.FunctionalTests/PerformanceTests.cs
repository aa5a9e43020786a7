extern alias inference;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Modeling;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;
using inference::Diabetes.InferenceApi.Apis;
using Microsoft.AspNetCore.Http;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// Live quality per model version from outcomes recorded in the real PostgreSQL, against the same figures worked out
/// here from the answers and the encounters' true outcomes.
/// </summary>
public class PerformanceTests
{
    [Fact]
    public async Task LiveQualityIsThatOfTheAnsweredProbabilitiesAgainstTheOutcomesAndItsIntervalNarrowsWithMoreOutcomes()
    {
        // Arrange: 600 logged predictions of encounters training did not see, and their true outcomes; figures from 50 on
        var (app, database) = await OutcomeTests.StartLoggedAsync(("Monitoring:MinimumOutcomes", "50"));
        await using var _ = app;
        var predictions = await OutcomeTests.PredictLoggedAsync(app, database, 600);
        var labels = TestEncounters.All.Skip(10_000).Take(600).Select(e => e.Input.Label).ToArray();

        // Act: the outcomes of the first 30, then of the first 60, then of all
        var answers = new List<PerformanceResponse>();
        var reported = 0;
        foreach (var count in new[] { 30, 60, 600 })
        {
            await PostOutcomesAsync(app, predictions[reported..count], labels[reported..count]);
            reported = count;
            answers.Add(await PerformanceAsync(app, ""));
        }

        // Assert: under the minimum only the count
        var few = answers[0];
        Assert.Equal(("1", 30, "insufficient data", 50), (few.Version, few.Outcomes, few.Status, few.MinimumOutcomes));
        Assert.All(new[] { few.PrAuc, few.Brier, few.PositiveRate, few.Precision, few.Recall }, figure => Assert.Null(figure));
        Assert.Null(few.RocAuc);

        // Assert: from the minimum on, the figures of the answers against the outcomes
        foreach (var (answer, count) in answers.Skip(1).Zip([60, 600]))
        {
            var probabilities = predictions[..count].Select(p => (float)p.Probability).ToArray();
            var expected = BinaryMetrics.Compute(probabilities, labels[..count], predictions[0].Threshold);
            var interval = BinaryMetrics.RocAucWithInterval(probabilities, labels[..count]);
            Assert.Equal(("1", count, "ok"), (answer.Version, answer.Outcomes, answer.Status));
            Assert.InRange(expected.Positives, 2, count - 2);
            Assert.Equal(expected.RocAuc, answer.RocAuc!.Value, 12);
            Assert.Equal(interval.Low, answer.RocAuc.Low!.Value, 12);
            Assert.Equal(interval.High, answer.RocAuc.High!.Value, 12);
            Assert.InRange(answer.RocAuc.Value, answer.RocAuc.Low.Value, answer.RocAuc.High.Value);
            Assert.Equal(expected.PrAuc, answer.PrAuc!.Value, 12);
            Assert.Equal(expected.Brier, answer.Brier!.Value, 12);
            Assert.Equal((double)predictions[..count].Count(p => p.ReadmittedWithin30Days) / count, answer.PositiveRate!.Value, 12);
            Assert.Equal(expected.Precision, answer.Precision!.Value, 12);
            Assert.Equal(expected.Recall, answer.Recall!.Value, 12);
            Assert.Equal((0.05, null), (answer.AucDrop, answer.RocAucFell));
            Assert.Equal([PerformanceApi.NoTestRocAuc], answer.Notes);
        }

        var (sixty, all) = (answers[1].RocAuc!, answers[2].RocAuc!);
        Assert.True(all.High - all.Low < sixty.High - sixty.Low, $"[{all.Low}, {all.High}] from 600 outcomes is not narrower than [{sixty.Low}, {sixty.High}] from 60");

        // Assert: beside the version's validation metrics, as logged in its run (it has no test metrics)
        var validation = ModelFolder.Metrics(TestModels.Logistic.Validation);
        Assert.Equal(validation.OrderBy(m => m.Key), answers[2].Validation.OrderBy(m => m.Key));
        Assert.Empty(answers[2].Test);
    }

    [Fact]
    public async Task AVersionNoLongerServedIsMeasuredBesideItsOwnMetricsFromMlflow()
    {
        // Arrange: version 1 answers 40 predictions that get outcomes, then version 2 is served and answers 10
        var (app, database) = await OutcomeTests.StartLoggedAsync(("Monitoring:MinimumOutcomes", "20"));
        await using var _ = app;
        var first = await OutcomeTests.PredictLoggedAsync(app, database, 40);
        var labels = TestEncounters.All.Skip(10_000).Take(40).Select(e => e.Input.Label).ToArray();
        await PostOutcomesAsync(app, first, labels);
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree)).Version);
        await OutcomeTests.PredictLoggedAsync(app, database, 10, skip: 10_100);

        // Act
        var one = await PerformanceAsync(app, "?version=1");
        var served = await PerformanceAsync(app, "");
        using var missing = await app.CreateClient().GetAsync("/api/monitoring/performance?version=9");
        using var bad = await app.CreateClient().GetAsync("/api/monitoring/performance?version=latest");

        // Assert: version 1 from its outcomes and its run's metrics in MLflow; version 2 without outcomes yet
        Assert.Equal(("1", 40, "ok"), (one.Version, one.Outcomes, one.Status));
        Assert.Equal(BinaryMetrics.AreaUnderRoc(first.Select(p => (float)p.Probability).ToArray(), labels), one.RocAuc!.Value, 12);
        Assert.Equal(ModelFolder.Metrics(TestModels.Logistic.Validation).OrderBy(m => m.Key), one.Validation.OrderBy(m => m.Key));
        Assert.Equal(("2", 0, "insufficient data"), (served.Version, served.Outcomes, served.Status));
        Assert.Equal(ModelFolder.Metrics(TestModels.FastTree.Validation).OrderBy(m => m.Key), served.Validation.OrderBy(m => m.Key));

        // Assert: a version MLflow does not have and no outcome names is a 404; a version that is not a number a 400
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("'latest' is not a version number", (await bad.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!.Errors["version"][0]);

        // Act and assert: against a test ROC-AUC far above the live one it fell, far below it did not (the newest value counts)
        var runId = (await app.MlflowClient.Api.GetModelVersionAsync(ModelArtifacts.RegisteredModelName, "1", CancellationToken.None)).ModelVersion.RunId!;
        await app.MlflowClient.LogAsync(runId, metrics: new Dictionary<string, double> { ["test_roc_auc"] = one.RocAuc.Value + 0.06 }, cancellationToken: CancellationToken.None);
        var fell = await PerformanceAsync(app, "?version=1");
        await app.MlflowClient.LogAsync(runId, metrics: new Dictionary<string, double> { ["test_roc_auc"] = one.RocAuc.Value + 0.04 }, cancellationToken: CancellationToken.None);
        var held = await PerformanceAsync(app, "?version=1");
        Assert.Equal((true, false), (fell.RocAucFell, held.RocAucFell));
        Assert.Empty(fell.Notes);
    }

    [Fact]
    public async Task WithOutcomesOfOneClassOnlyRocAucIsUndefinedAndTheAnswerSaysWhy()
    {
        // Arrange: eight predictions whose patients were all not readmitted
        var (app, database) = await OutcomeTests.StartLoggedAsync(("Monitoring:MinimumOutcomes", "5"));
        await using var _ = app;
        var predictions = await OutcomeTests.PredictLoggedAsync(app, database, 8);
        await PostOutcomesAsync(app, predictions, new bool[8]);

        // Act
        var answer = await PerformanceAsync(app, "");

        // Assert: what needs readmissions is undefined and said so; the rest is given
        Assert.Equal((8, "ok"), (answer.Outcomes, answer.Status));
        Assert.Null(answer.RocAuc);
        Assert.Equal((null, null), (answer.PrAuc, answer.Recall));
        Assert.Equal(BinaryMetrics.BrierScore(predictions.Select(p => (float)p.Probability).ToArray(), new bool[8]), answer.Brier!.Value, 12);
        Assert.Contains("ROC-AUC is undefined: none of the 8 outcomes is a readmission, and it ranks readmissions against others.", answer.Notes);
        Assert.Contains("PR-AUC and recall are undefined: no outcome is a readmission.", answer.Notes);
    }

    internal static async Task PostOutcomesAsync(InferenceApp app, IEnumerable<PredictionResponse> predictions, IEnumerable<bool> readmitted)
    {
        var list = new JsonArray([.. predictions.Zip(readmitted).Select(p => (JsonNode)new JsonObject
        {
            ["predictionId"] = p.First.PredictionId.ToString(),
            ["readmittedWithin30Days"] = p.Second,
        })]);
        using var response = await app.PostJsonAsync("/api/outcomes", list.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(list.Count, (await response.Content.ReadFromJsonAsync<OutcomesResponse>())!.Recorded);
    }

    [Fact]
    public Task WithoutALogPerformanceIs503WithoutRetryAfterAndWithItsPostgresDown503WithRetryAfter() =>
        LogRefusals.AssertAsync("/api/monitoring/performance?version=1");

    private static async Task<PerformanceResponse> PerformanceAsync(InferenceApp app, string query)
    {
        using var response = await app.CreateClient().GetAsync($"/api/monitoring/performance{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PerformanceResponse>())!;
    }
}
