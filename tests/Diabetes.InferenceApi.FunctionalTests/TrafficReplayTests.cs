extern alias inference;

using System.Net.Http.Json;
using Diabetes.Bench;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;
using inference::Diabetes.InferenceApi;
using inference::Diabetes.InferenceApi.Monitoring;
using Xunit.Abstractions;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// The traffic tool (<c>bench/run.sh traffic</c>) against the inference API serving a model trained on the whole train
/// split, its log on the real PostgreSQL: the test split as it is stays <c>ok</c> on every input; shifted, the shifted
/// inputs reach <c>alert</c> and every other stays <c>ok</c>. Failed requests are counted, and the run goes on.
/// </summary>
public class TrafficReplayTests(ITestOutputHelper output)
{
    /// <summary>
    /// Encounters spread over the test split (14,740 in all). Against the train split's profile the largest PSI of any
    /// input was 0.073 for 500 such encounters, 0.043 for 1,000, 0.019 for 2,000 and 0.003 for the whole split: 2,000
    /// keep sampling noise at a fifth of <c>warn</c> (0.1).
    /// </summary>
    private const int TestSplitSample = 2_000;

    private static readonly Lazy<List<DatasetEncounter>> Dataset = new(() => DatasetEncounters.Load(TestData.DatasetZip));

    /// <summary>
    /// A logistic regression fitted on the whole train split and judged on validation, as a training job fits one: its
    /// reference profile is the train split's.
    /// </summary>
    private static readonly Lazy<(TrainedCandidate Model, FeaturePipeline Features, ModelLineage Lineage)> TrainSplitModel = new(() =>
    {
        List<ModelInput> Inputs(DatasetSplit split) => Dataset.Value.Where(e => e.Row.Split == split).Select(e => ModelInput.FromClean(e.Clean)).ToList();
        var (train, validation) = (Inputs(DatasetSplit.Train), Inputs(DatasetSplit.Validation));
        var trainer = new ModelTrainer(train, validation);
        var model = trainer.Train(Candidates.All.First(c => c.Algorithm == "LbfgsLogisticRegression"));
        return (model, trainer.Features, new ModelLineage(["test"], [1, 2, 3, 4, 5], train.Count, validation.Count, "digest"));
    });

    [Fact]
    public async Task TheTestSplitUnshiftedStaysOkOnEveryInputAndItsOutcomesAreRecorded()
    {
        // Arrange
        await using var serving = await ServingAsync();
        var encounters = TrafficReplay.Select(Dataset.Value, DatasetSplit.Test, TestSplitSample, []);

        // Act
        var summary = await ReplayAsync(serving.App, encounters, recordOutcomes: true);
        var drift = await DriftAsync(serving);

        // Assert: every encounter answered, every outcome recorded with the dataset's label
        Assert.Equal((TestSplitSample, TestSplitSample, 0), (summary.Sent, summary.Answered, summary.Failed.Count));
        Assert.Equal((TestSplitSample, TestSplitSample, 0, 0), (summary.Outcomes!.Posted, summary.Outcomes.Recorded, summary.Outcomes.Unknown, summary.Outcomes.Failed.Count));
        var outcomes = await serving.Database.OutcomesAsync();
        Assert.Equal((TestSplitSample, encounters.Count(e => e.ReadmittedWithin30Days)), (outcomes.Count, outcomes.Values.Count(readmitted => readmitted)));

        // Assert: enough rows to judge, and no input reaches warn
        Assert.True(drift.Rows >= new MonitoringOptions().MinimumRows);
        Assert.Equal((TestSplitSample, 50), (drift.Rows, drift.Inputs.Count));
        Assert.All(drift.Inputs, input => Assert.True(input.Status == "ok", $"{input.Input} ({input.Name}): {input.Status}, PSI {input.Psi:F3}"));
    }

    [Fact]
    public async Task AgesTwoBracketsUpAndTwiceTheMedicationsAlertOnThoseInputsAloneAndTheOthersStayOk()
    {
        // Arrange
        await using var serving = await ServingAsync();
        InputShift[] shifts = [InputShift.Parse("age=+2"), InputShift.Parse("num_medications=x2")];
        var encounters = TrafficReplay.Select(Dataset.Value, DatasetSplit.Test, TestSplitSample, shifts);

        // Act
        var summary = await ReplayAsync(serving.App, encounters, recordOutcomes: false);
        var drift = await DriftAsync(serving);

        // Assert: age gives one input, num_medications one, and nothing else is computed from either
        Assert.Equal((TestSplitSample, 0, (OutcomeTally?)null), (summary.Answered, summary.Failed.Count, summary.Outcomes));
        Assert.Equal(TestSplitSample, drift.Rows);
        Assert.Equal(
            [(nameof(ModelInput.AgeYears), "age", "alert"), (nameof(ModelInput.NumMedications), "num_medications", "alert")],
            drift.Inputs.Where(i => i.Name is "age" or "num_medications").Select(i => (i.Input, i.Name, i.Status)));
        Assert.All(drift.Inputs.Where(i => i.Name is not ("age" or "num_medications")),
            input => Assert.True(input.Status == "ok", $"{input.Input} ({input.Name}): {input.Status}, PSI {input.Psi:F3}"));
    }

    [Fact]
    public async Task RefusedAndUnansweredRequestsAreCountedByStatusAndTheRunGoesOn()
    {
        // Arrange: an API with no model (503), an encounter it refuses (400: a patient who died), and no API at all
        await using var app = await InferenceApp.StartAsync();
        var encounters = TrafficReplay.Select(Dataset.Value, DatasetSplit.Test, 20, []);
        var expired = TrafficReplay.Select(Dataset.Value, DatasetSplit.Test, 20, [InputShift.Parse("discharge_disposition_id=11")]);
        using var nowhere = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{LoopbackHttpServer.FreePort()}/") };

        // Act: singles at 100/s, then batches of 50 at 500/s
        var noModel = await new TrafficReplay(app.CreateClient(), TextWriter.Null).RunAsync(encounters, rate: 100, recordOutcomes: true);
        var refused = await new TrafficReplay(app.CreateClient(), TextWriter.Null).RunAsync(expired, rate: 500, recordOutcomes: false);
        var unanswered = await new TrafficReplay(nowhere, TextWriter.Null).RunAsync(encounters, rate: 500, recordOutcomes: false);

        // Assert
        Assert.Equal((20, 20, 0), (noModel.Sent, noModel.Requests, noModel.Answered));
        Assert.Equal((20, 20), (noModel.Failed["503"].Encounters, noModel.Failed["503"].Requests));
        Assert.Equal((0, 0), (noModel.Outcomes!.Posted, noModel.Outcomes.Recorded));
        Assert.Equal(("400", 20, 1), (refused.Failed.Keys.Single(), refused.Failed["400"].Encounters, refused.Failed["400"].Requests));
        Assert.Contains("discharge_disposition_id", refused.Failed["400"].FirstAnswer);
        Assert.Equal((TrafficReplay.NoAnswer, 20, 0), (unanswered.Failed.Keys.Single(), unanswered.Failed[TrafficReplay.NoAnswer].Encounters, unanswered.Answered));
    }

    /// <summary>An inference API with its log in a fresh database (so drift sees only this traffic), serving the train split's model.</summary>
    private static Task<DriftTests.Serving> ServingAsync()
    {
        var (model, features, lineage) = TrainSplitModel.Value;
        return DriftTests.ServingAsync(mlflow => ModelPublisher.PublishAsync(mlflow, model, features, lineage));
    }

    /// <summary>The tool's run as fast as the API answers (batches of a thousand), its printout in the test's output.</summary>
    private async Task<TrafficSummary> ReplayAsync(InferenceApp app, IReadOnlyList<TrafficEncounter> encounters, bool recordOutcomes)
    {
        var printed = new StringWriter();
        var summary = await new TrafficReplay(app.CreateClient(), printed).RunAsync(encounters, rate: 1_000_000, recordOutcomes);
        output.WriteLine(printed.ToString());
        return summary;
    }

    /// <summary>Drift over the default window (the last day) once every answered prediction is in the log; its PSI per input in the output.</summary>
    private async Task<DriftResponse> DriftAsync(DriftTests.Serving serving)
    {
        await Poll.UntilAsync(() => serving.Database.CountAsync(), count => count == TestSplitSample, $"the {TestSplitSample} predictions to be logged");
        var drift = (await serving.App.CreateClient().GetFromJsonAsync<DriftResponse>("/api/monitoring/drift"))!;
        foreach (var input in drift.Inputs.OrderByDescending(i => i.Psi))
        {
            output.WriteLine($"{input.Input,-32} {input.Name,-52} PSI {input.Psi,7:F4}  {input.Status}");
        }

        return drift;
    }
}
