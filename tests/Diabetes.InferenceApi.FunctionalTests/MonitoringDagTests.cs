using Diabetes.Core.Modeling;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Xunit.Abstractions;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// The DAG <c>diabetes_monitoring</c> replayed (<see cref="DagReplay"/>) against the inference API, its prediction log on
/// the real PostgreSQL and a real model in the MLflow double: the API's own answers decided on by the DAG file's own
/// Python, both ways.
/// </summary>
public class MonitoringDagTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AnInputInAlertTriggersTrainingWithTheInputAndItsPsiInTheConf()
    {
        // Arrange: 1,000 predictions of encounters two age brackets older than the training population
        await using var serving = await DriftTests.ServingAsync();
        await DriftTests.PredictAndWaitForTheLogAsync(serving.App, serving.Database, DriftTests.Sample.Select(DriftTests.OlderByTwoBrackets).ToArray());

        // Act
        var run = await ReplayAsync(serving.App);

        // Assert: the run succeeded and triggered diabetes_training, naming age with its PSI
        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal(TaskState.Success, run["trigger_training"].State);
        var triggered = Assert.Single(run.Triggered);
        Assert.Equal("diabetes_training", triggered.DagId);
        Assert.Matches(@"^inputs in alert over 1,000 predictions of version 1: age \(AgeYears\) PSI \d+\.\d{3}$", (string?)triggered.Conf["reason"]);
        Assert.Equal($"Training needed: {triggered.Conf["reason"]}", run["decide_training"].Message);
    }

    [Fact]
    public async Task WithNoInputInAlertAndNoFallOfRocAucTheTriggerIsSkippedAndTheRunSucceeds()
    {
        // Arrange: 1,000 predictions of encounters of the training population
        await using var serving = await DriftTests.ServingAsync();
        await DriftTests.PredictAndWaitForTheLogAsync(serving.App, serving.Database, DriftTests.Sample);

        // Act
        var run = await ReplayAsync(serving.App);

        // Assert: both answers read, the decision says why nothing is trained, the trigger skipped
        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal([TaskState.Success, TaskState.Success, TaskState.Success, TaskState.Skipped], run.Tasks.Select(t => t.State));
        Assert.Equal("Nothing to train for: no input in alert (drift ok over 1,000 predictions), live ROC-AUC on 0 outcomes cannot be judged " +
            "(check_performance's notes say why).", run["decide_training"].Message);
        Assert.Empty(run.Triggered);
    }

    [Fact]
    public async Task LiveRocAucFallenBelowTheTestRocAucTriggersTrainingWithTheFall()
    {
        // Arrange: a version whose test ROC-AUC no live ROC-AUC comes near, 200 of its predictions with their outcomes,
        // and Monitoring:MinimumOutcomes lowered to 100
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings(("Monitoring:MinimumOutcomes", "100")));
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic, promote: false);
        await app.MlflowClient.LogAsync(version.RunId!, metrics: new Dictionary<string, double> { ["test_roc_auc"] = 0.99 }, cancellationToken: CancellationToken.None);
        await app.MlflowClient.PromoteAsync(ModelArtifacts.RegisteredModelName, version.Version, CancellationToken.None);
        await app.WaitForVersionAsync(version.Version);
        var predictions = await OutcomeTests.PredictLoggedAsync(app, database, 200);
        await PerformanceTests.PostOutcomesAsync(app, predictions, TestEncounters.All.Skip(10_000).Take(200).Select(e => e.Input.Label));

        // Act
        var run = await ReplayAsync(app);

        // Assert: too few predictions for drift, but the fall of ROC-AUC is a reason
        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal(TaskState.Success, run["trigger_training"].State);
        Assert.Matches(@"^live ROC-AUC 0\.\d{3} of version 1 on 200 outcomes is below its test ROC-AUC 0\.990 by more than 0\.05$",
            (string?)Assert.Single(run.Triggered).Conf["reason"]);
    }

    [Theory]
    [InlineData(false, "Nothing to monitor: The prediction log is off.")]
    [InlineData(true, "Nothing to monitor: No model in Production yet.")]
    public async Task WithNothingToMonitorTheRunIsSkippedNotFailed(bool logOn, string message)
    {
        // Arrange: the log off, or on with no model in Production
        var settings = logOn ? (await MonitoringDatabase.CreateAsync()).Settings() : null;
        await using var app = await InferenceApp.StartAsync(settings: settings);
        await app.WaitForModelAsync(model => model.TryGetProperty("title", out var title) && title.GetString() == "No model in Production yet",
            "the watcher to find no version in Production");

        // Act
        var run = await ReplayAsync(app);

        // Assert: every task skipped, the run green, and the drift check says why
        Assert.True(run.Succeeded, run.ToString());
        Assert.All(run.Tasks, task => Assert.Equal(TaskState.Skipped, task.State));
        Assert.StartsWith(message, run["check_drift"].Message);
        Assert.Empty(run.Triggered);
    }

    private Task<DagRun> ReplayAsync(InferenceApp app) =>
        new DagReplay(new Dictionary<string, HttpClient> { ["inference_api"] = app.CreateClient() }, output).RunAsync("diabetes_monitoring");
}
