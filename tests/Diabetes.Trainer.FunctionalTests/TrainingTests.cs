using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Promotion;
using Diabetes.Trainer.Training;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using static System.FormattableString;

namespace Diabetes.Trainer.FunctionalTests;

public class TrainingTests
{
    private const string Model = TrainingWorkflow.ModelName;
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];

    [Fact]
    public async Task TrainsRegistersPromotesAndDefendsProduction()
    {
        // Arrange: CLEAN DATA from the dataset's first 6,000 encounters, train rows in batches of 1,000
        await using var app = await TrainerApp.StartAsync(encounters: 6_000);
        var mlflow = app.MlflowClient;

        // Act: start a job; a second request while it runs answers the same job
        var (started, location) = await app.StartTrainingAsync();
        var (again, _) = await app.StartTrainingAsync();
        var job = await app.WaitForJobAsync(started.Id);

        // Assert: the job
        Assert.Equal($"/api/trainings/{started.Id}", location.AbsolutePath);
        Assert.Equal(started.Id, again.Id);
        Assert.True(job.Status == nameof(TrainingStatus.Succeeded), job.Error);
        Assert.Equal(Candidates.All.Count, job.Candidates.Count);
        Assert.Equal(Candidates.All.Count, job.Progress.CompletedCandidates);
        Assert.Equal("1", job.RegisteredVersion);
        Assert.Equal([1, 2, 3, 4, 5], job.Batches);
        Assert.Equal(job.Candidates.MaxBy(c => c.Metrics["val_roc_auc"])!.RunId, job.BestRunId);

        // The parent run: lineage, datasets, FINISHED
        var parent = (await mlflow.Api.GetRunAsync(job.ParentRunId!, CancellationToken.None)).Run;
        Assert.Equal(MlflowNames.Finished, parent.Info.Status);
        Assert.Equal(job.TrainRows.ToString(), parent.Data!.ParamValue("train_rows"));
        Assert.Equal("1,2,3,4,5", parent.Data.ParamValue("batches"));
        Assert.Equal(CleanDataSeeder.SourceSha256, parent.Data.ParamValue("source_sha256"));
        Assert.Equal(["training", "validation", "testing"], parent.Inputs!.DatasetInputs!.Select(d => d.Tags!.Single().Value));
        Assert.NotNull(parent.Data.MetricValue("test_roc_auc"));

        // One child run per candidate, with every metric, the training dataset and the model folder, whose model
        // reloads and predicts the very probabilities its metrics were computed from (log loss and Brier see them)
        var validation = await InputsAsync(app, DatasetSplit.Validation);
        var validationLabels = validation.Select(v => v.Label).ToArray();
        var children = (await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([parent.Info.ExperimentId],
            $"tags.`{MlflowNames.ParentRunIdTag}` = '{parent.Info.RunId}'"), CancellationToken.None)).Runs!;
        Assert.Equal(Candidates.All.Count, children.Count);
        Assert.Equal(Candidates.All.Select(c => c.Algorithm).Distinct().Count(), children.Select(c => c.Data!.ParamValue("algorithm")).Distinct().Count());
        foreach (var child in children)
        {
            Assert.Equal(MlflowNames.Finished, child.Info.Status);
            foreach (var metric in new[] { "val_roc_auc", "val_pr_auc", "val_f1", "val_recall", "val_precision", "val_log_loss", "val_brier", "train_seconds" })
            {
                Assert.True(child.Data!.MetricValue(metric) is not null, $"{child.Info.RunName} lacks {metric}");
            }

            Assert.Equal("training", Assert.Single(child.Inputs!.DatasetInputs!).Tags!.Single().Value);
            var folder = await mlflow.Api.ListArtifactsAsync(child.Info.RunId, "model", CancellationToken.None);
            Assert.Equal(["model/MLmodel", "model/input_example.json", "model/metadata.json", "model/model.zip", "model/reference_profile.json"],
                folder.Files!.Select(f => f.Path));
            var reloaded = ReadmissionModel.Load(await mlflow.DownloadArtifactAsync(child.Info.ArtifactUri, "model/model.zip", CancellationToken.None));
            var metrics = BinaryMetrics.Compute(reloaded.Predict(validation), validationLabels, child.Data!.MetricValue("val_threshold")!.Value);
            Assert.Equal(child.Data.MetricValue("val_roc_auc")!.Value, metrics.RocAuc, 9);
            Assert.Equal(child.Data.MetricValue("val_log_loss")!.Value, metrics.LogLoss, 9);
            Assert.Equal(child.Data.MetricValue("val_brier")!.Value, metrics.Brier, 9);
        }

        // The chosen candidate: plots, test metrics, the model folder's description
        var best = children.Single(c => c.Info.RunId == job.BestRunId);
        foreach (var plot in new[] { "roc_curve", "precision_recall_curve", "confusion_matrix", "feature_importance" })
        {
            var png = await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, $"plots/{plot}.png", CancellationToken.None);
            Assert.Equal(PngSignature, png[..4]);
        }

        Assert.NotNull(best.Data!.MetricValue("test_roc_auc"));
        var mlModel = Encoding.UTF8.GetString(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, "model/MLmodel", CancellationToken.None));
        Assert.Contains("  mlnet:\n", mlModel);
        Assert.Contains($"run_id: {best.Info.RunId}", mlModel);
        Assert.Contains("\"name\":\"A1Cresult\"", mlModel);
        using var metadata = JsonDocument.Parse(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, "model/metadata.json", CancellationToken.None));
        Assert.Equal(best.Data.MetricValue("val_threshold")!.Value, metadata.RootElement.GetProperty("threshold").GetDouble(), 6);
        var auc = best.Data.MetricValue("val_roc_auc")!.Value;

        // Its reference profile: every model input over the training rows, its probabilities over validation
        var profile = ReferenceProfile.Parse(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, "model/reference_profile.json", CancellationToken.None));
        Assert.Equal(MonitoredInput.All.Select(i => i.Input), profile.Inputs.Select(i => i.Input));
        Assert.All(profile.Inputs, input => Assert.Equal(job.TrainRows, input.Bins.Sum(b => b.Count)));
        Assert.Equal(validation.Count, profile.Score.Bins.Sum(b => b.Count));
        var threshold = best.Data.MetricValue("val_threshold")!.Value;
        var bestModel = ReadmissionModel.Load(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, "model/model.zip", CancellationToken.None));
        var bestProbabilities = bestModel.Predict(validation);
        Assert.Equal(bestProbabilities.Count(p => p >= threshold) / (double)validation.Count, profile.PositiveRate, 6);

        // Its figures per patient group on validation and test: slices.json, as the saved model gives them again, its
        // plot, and a metric per figure of each group large enough to be scored, under names MLflow accepted
        var slices = ModelSlices.Parse(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, ModelSlices.FileName, CancellationToken.None));
        var test = await InputsAsync(app, DatasetSplit.Test);
        Assert.Equal((threshold, PatientGroups.MinimumPerClass), (slices.Threshold, slices.MinimumPerClass));
        Assert.Equal(["validation", "test"], slices.Splits.Select(s => s.Split));
        Assert.Equal((validation.Count, validation.Count(v => v.Label)), (slices.Splits[0].Rows, slices.Splits[0].Positives));
        AssertSameGroups(PatientGroups.Measure(validation, bestProbabilities, threshold), slices.Splits[0].Groups);
        AssertSameGroups(PatientGroups.Measure(test, bestModel.Predict(test), threshold), slices.Splits[1].Groups);
        Assert.Contains(slices.Splits[0].Groups, g => !g.TooSmall);
        Assert.Contains(slices.Splits[0].Groups, g => g.TooSmall);
        foreach (var (prefix, split) in new[] { ("val_", slices.Splits[0]), ("test_", slices.Splits[1]) })
        {
            foreach (var group in split.Groups)
            {
                Assert.Equal(group.RocAuc?.Value, best.Data.MetricValue($"{prefix}roc_auc.{group.Key}"));
                Assert.Equal(group.TruePositiveRate, best.Data.MetricValue($"{prefix}tpr.{group.Key}"));
            }
        }

        Assert.Equal(PngSignature, (await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, "plots/slices_roc_auc.png", CancellationToken.None))[..4]);

        // The registered version names its run, metrics and batches
        var version = (await mlflow.Api.GetModelVersionAsync(Model, "1", CancellationToken.None)).ModelVersion;
        Assert.Equal((best.Info.RunId, $"{best.Info.ArtifactUri}/model"), (version.RunId, version.Source));
        Assert.Equal("1,2,3,4,5", version.Tag("batches"));
        Assert.NotNull(version.Tag("test_roc_auc"));

        // Promotion: a first version is promoted directly, alias and stage
        var first = await PromoteAsync(app);
        Assert.True(first.Promoted, first.Reason);
        Assert.Equal("1", first.Production!.Version);
        Assert.Equal(auc, first.Production.Metric, 9);
        var production = (await mlflow.Api.GetModelVersionByAliasAsync(Model, MlflowClient.ProductionAlias, CancellationToken.None)).ModelVersion;
        Assert.Equal(("1", MlflowNames.StageProduction, "promoted"), (production.Version, production.CurrentStage, production.Tag("promotion_decision")));

        // A promotion cut short (the alias lost, the stage kept) is completed
        await mlflow.Api.DeleteAliasAsync(new DeleteAliasRequest(Model, MlflowClient.ProductionAlias), CancellationToken.None);
        var completed = await PromoteAsync(app);
        Assert.True(completed.Promoted, completed.Reason);
        Assert.Contains("completes its promotion", completed.Reason);
        Assert.Equal("1", (await mlflow.Api.GetModelVersionByAliasAsync(Model, MlflowClient.ProductionAlias, CancellationToken.None)).ModelVersion.Version);

        // Promoting again changes nothing
        var before = await RegistryStateAsync(app);
        var second = await PromoteAsync(app);
        Assert.False(second.Promoted);
        Assert.Contains("already holds Production", second.Reason);
        Assert.Equal(before, await RegistryStateAsync(app));

        // A worse challenger (trained on shuffled labels) does not take Production, and saying so twice changes nothing
        await RegisterFastTreeModelAsync(app, ShuffledLabels);
        var challenged = await PromoteAsync(app);
        Assert.False(challenged.Promoted);
        Assert.Equal(("1", "2"), (challenged.Production!.Version, challenged.Challenger!.Version));
        Assert.True(challenged.Challenger.Metric < challenged.Production.Metric);
        Assert.Contains("keeps Production", challenged.Reason);
        var afterChallenge = await RegistryStateAsync(app);
        Assert.Equal(JsonSerializer.Serialize(challenged), JsonSerializer.Serialize(await PromoteAsync(app)));
        Assert.Equal(afterChallenge, await RegistryStateAsync(app));
        var rejected = (await mlflow.Api.GetModelVersionAsync(Model, "2", CancellationToken.None)).ModelVersion;
        Assert.Equal(("None", "rejected"), (rejected.CurrentStage, rejected.Tag("promotion_decision")));
        Assert.Equal("1", (await mlflow.GetProductionVersionAsync(Model, CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task TheChosenRunCarriesAModelCardWithTheJobsRealFiguresBeforeItsVersionIsRegistered()
    {
        // Arrange: CLEAN DATA from the dataset's first 6,000 encounters, with those the cleaning left out; two families of candidates
        await using var app = await TrainerApp.StartAsync(encounters: 6_000, algorithms: "FastTree,LbfgsLogisticRegression");
        var mlflow = app.MlflowClient;

        // Act
        var job = await app.WaitForJobAsync((await app.StartTrainingAsync()).Job.Id);

        // Assert: the card is in the chosen run, uploaded before the version was created
        Assert.True(job.Status == nameof(TrainingStatus.Succeeded), job.Error);
        var parent = (await mlflow.Api.GetRunAsync(job.ParentRunId!, CancellationToken.None)).Run;
        var best = (await mlflow.Api.GetRunAsync(job.BestRunId!, CancellationToken.None)).Run;
        var markdown = Encoding.UTF8.GetString(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, ModelArtifacts.ModelCardFile, CancellationToken.None));
        var lines = markdown.Split('\n');
        var requests = app.Mlflow.Requests().Select(r => r.PathAndQuery).ToList();
        Assert.True(requests.FindIndex(r => r.EndsWith($"/{ModelArtifacts.ModelCardFile}", StringComparison.Ordinal))
            < requests.FindIndex(r => r.Contains("/model-versions/create", StringComparison.Ordinal)), string.Join("\n", requests));

        // Its sections in order, under the chosen candidate's name, with the run, the job and the threshold
        Assert.Equal($"# {Model}: {best.Data!.Tag(TrainingWorkflow.CandidateTag)}", lines[0]);
        Assert.StartsWith($"Run `{best.Info.RunId}` of training job `{job.Id}`, trained ", lines[2]);
        Assert.Contains($"Decision threshold {Figure(best, "val_threshold")}, {ModelFolder.ThresholdRule}", lines[2]);
        Assert.Equal(ModelCard.Sections.Select(s => $"## {s}"), lines.Where(l => l.StartsWith("## ", StringComparison.Ordinal)));

        // The lineage the job's run logged: source, batches, CLEAN DATA's digest, rows per split
        Assert.Contains($"| source file (SHA-256) | `{parent.Data!.ParamValue("source_sha256")}` |", lines);
        Assert.Contains($"| train batches | {parent.Data.ParamValue("batches")!.Replace(",", ", ", StringComparison.Ordinal)} |", lines);
        Assert.Contains($"digest `{parent.Data.ParamValue(TrainingWorkflow.CleanDataDigestTag)}`", markdown);
        foreach (var split in new[] { "train", "validation", "test" })
        {
            Assert.Contains(lines, l => l.StartsWith(Invariant($"| {split} | {int.Parse(parent.Data.ParamValue($"{split}_rows")!):N0} | "), StringComparison.Ordinal));
        }

        // What the cleaning left out, as CLEAN DATA counts it per reason and split (every batch was read)
        var excluded = await ExcludedAsync(app);
        Assert.Contains(excluded, e => e.Reason == "expired");
        foreach (var reason in excluded.Select(e => e.Reason).Distinct())
        {
            var counts = new[] { "train", "validation", "test" }.Select(split => excluded.Where(e => e.Reason == reason && e.Split == split).Sum(e => e.Rows));
            Assert.Contains(lines, l => l.StartsWith($"| {reason}", StringComparison.Ordinal) && l.EndsWith($" | {string.Join(" | ", counts.Select(c => c.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} |", StringComparison.Ordinal));
        }

        // Every candidate's run with its validation ROC-AUC, PR-AUC and seconds as logged; the chosen one marked
        var children = (await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([parent.Info.ExperimentId],
            $"tags.`{MlflowNames.ParentRunIdTag}` = '{parent.Info.RunId}'"), CancellationToken.None)).Runs!;
        Assert.Equal(job.Candidates.Count, children.Count);
        foreach (var child in children)
        {
            var name = child.Data!.Tag(TrainingWorkflow.CandidateTag)!;
            Assert.Contains(lines, l => l.StartsWith($"| {(child.Info.RunId == best.Info.RunId ? $"**{name}** (chosen)" : name)} | `{child.Info.RunId}` | {Figure(child, "val_roc_auc")} [", StringComparison.Ordinal)
                && l.EndsWith($"| {Figure(child, "val_pr_auc")} | {child.Data.MetricValue("train_seconds")!.Value:0.000} |", StringComparison.Ordinal));
        }

        Assert.Contains("Margin over the runner-up", markdown);

        // The metrics as logged, validation and test, with the test estimate's standard error
        Assert.Contains($"| ROC-AUC [95 % CI] | {Figure(best, "val_roc_auc")} [", markdown);
        Assert.Contains(lines, l => l.StartsWith("| ROC-AUC [95 % CI] |", StringComparison.Ordinal) && l.Contains($"| {Figure(best, "test_roc_auc")} [", StringComparison.Ordinal));
        foreach (var (row, metric) in new[] { ("PR-AUC", "pr_auc"), ("F1", "f1"), ("precision", "precision"), ("recall", "recall"), ("Brier score", "brier"), ("log-loss", "log_loss") })
        {
            Assert.Contains($"| {row} | {Figure(best, $"val_{metric}")} | {Figure(best, $"test_{metric}")} |", lines);
        }

        Assert.Contains($"Test ROC-AUC {Figure(best, "test_roc_auc")} has a standard error of ", markdown);

        // The groups with the rows and readmitted rows of slices.json, scored or too small
        var slices = ModelSlices.Parse(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, ModelSlices.FileName, CancellationToken.None));
        foreach (var split in slices.Splits)
        {
            var table = lines.SkipWhile(l => !l.StartsWith(Invariant($"### {char.ToUpperInvariant(split.Split[0])}{split.Split[1..]} ({split.Rows:N0} rows"), StringComparison.Ordinal))
                .Skip(4).TakeWhile(l => l.StartsWith('|')).ToArray();
            Assert.Equal(split.Groups.Select(g => Invariant($"| {g} | {g.Rows:N0} | {g.Positives:N0} | ") +
                (g.RocAuc is { } auc ? Invariant($"{auc.Value:F4} [{auc.Low:F4}, {auc.High:F4}] | {g.PredictedPositiveRate:F4} | {g.TruePositiveRate:F4} | {g.FalsePositiveRate:F4} |") : "too small")),
                table.Select(l => l.Contains("too small", StringComparison.Ordinal) ? l[..(l.IndexOf("too small", StringComparison.Ordinal) + "too small".Length)] : l));
        }

        // How to call it: the run's own input example and MLflow URI
        var example = Encoding.UTF8.GetString(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, $"model/{ModelArtifacts.InputExampleFile}", CancellationToken.None));
        Assert.Contains(example.TrimEnd(), markdown);
        Assert.Contains($"`runs:/{best.Info.RunId}/model`", markdown);
        Assert.Equal(best.Info.RunId, (await mlflow.Api.GetModelVersionAsync(Model, job.RegisteredVersion!, CancellationToken.None)).ModelVersion.RunId);

        // Trained when the chosen model's metadata.json says it was created, not when the card was written
        var metadata = ModelMetadata.Parse(await mlflow.DownloadArtifactAsync(best.Info.ArtifactUri, $"{ModelArtifacts.FolderPath}/{ModelArtifacts.MetadataFile}", CancellationToken.None));
        Assert.StartsWith($"Run `{best.Info.RunId}` of training job `{job.Id}`, trained {metadata.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)} UTC.", lines[2]);
    }

    [Fact]
    public async Task AModelCardThatCannotBeStoredFailsTheJobAndRegistersNoVersion()
    {
        // Arrange: the artifact store refuses the card, and only the card
        await using var app = await TrainerApp.StartAsync(encounters: 4_000, algorithms: "LbfgsLogisticRegression");
        app.Mlflow.FailingUploadsOf = ModelArtifacts.ModelCardFile;

        // Act
        var job = await app.WaitForJobAsync((await app.StartTrainingAsync()).Job.Id);

        // Assert: the job failed saying why, its run too, and no version exists without a card
        Assert.Equal(nameof(TrainingStatus.Failed), job.Status);
        Assert.Contains(ModelArtifacts.ModelCardFile, job.Error);
        var run = (await app.MlflowClient.Api.GetRunAsync(job.ParentRunId!, CancellationToken.None)).Run;
        Assert.Equal((MlflowNames.Failed, job.Error), (run.Info.Status, run.Data!.Tag(TrainingWorkflow.ErrorTag)));
        Assert.Empty(app.Mlflow.Requests("/model-versions/create"));
        Assert.Null(await app.MlflowClient.GetNewestVersionAsync(Model, CancellationToken.None));
    }

    /// <summary>A metric of a run as the card writes it: four decimals.</summary>
    private static string Figure(Run run, string metric) => run.Data!.MetricValue(metric)!.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The encounters CLEAN DATA records as left out by the cleaning, counted by split and reason.</summary>
    private static async Task<List<(string Split, string Reason, int Rows)>> ExcludedAsync(TrainerApp app)
    {
        await using var connection = new NpgsqlConnection(app.CleanConnectionString);
        await connection.OpenAsync();
        await using var reader = await new NpgsqlCommand($"SELECT split, reason, count(*)::int FROM {ExcludedEncounterTable.Name} GROUP BY 1, 2", connection).ExecuteReaderAsync();
        var excluded = new List<(string, string, int)>();
        while (await reader.ReadAsync())
        {
            excluded.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return excluded;
    }

    [Fact]
    public async Task ABetterChallengerTakesProductionAndTheOldHolderIsArchived()
    {
        // Arrange: version 1, trained on shuffled labels, holds Production; version 2 learnt the real labels
        await using var app = await TrainerApp.StartAsync(encounters: 4_000);
        await RegisterFastTreeModelAsync(app, ShuffledLabels);
        Assert.True((await PromoteAsync(app)).Promoted);
        await RegisterFastTreeModelAsync(app, train => train);

        // Act
        var challenged = await PromoteAsync(app);

        // Assert: version 2 holds Production both ways, version 1 is archived, and the version says why; the groups
        // large enough to score were compared, and version 2 is better in each
        Assert.True(challenged.Promoted, challenged.Reason);
        Assert.Equal(("2", "1"), (challenged.Production!.Version, challenged.Challenger!.Version));
        Assert.True(challenged.Production.Metric > challenged.Challenger.Metric);
        var compared = challenged.Production.ValidationGroups.Zip(challenged.Challenger.ValidationGroups).Where(g => !g.First.TooSmall).ToArray();
        Assert.NotEmpty(compared);
        Assert.All(compared, g => Assert.True(g.First.RocAuc!.Value.Value > g.Second.RocAuc!.Value.Value, $"{g.First}"));
        Assert.Contains("beats version 1", challenged.Reason);

        // Both versions' groups on test too, beside validation's, as slices.json lists them, measured here by hand
        var test = await InputsAsync(app, DatasetSplit.Test);
        foreach (var scored in new[] { challenged.Production, challenged.Challenger })
        {
            Assert.Equal(["validation", "test"], scored.Splits.Select(s => s.Split));
            Assert.Equal((test.Count, test.Count(t => t.Label)), (scored.Splits[1].Rows, scored.Splits[1].Positives));
            Assert.Equal(scored.Splits[0].Groups.Select(g => g.Key), scored.Splits[1].Groups.Select(g => g.Key));
        }
        var mlflow = app.MlflowClient;
        var holder = (await mlflow.Api.GetModelVersionByAliasAsync(Model, MlflowClient.ProductionAlias, CancellationToken.None)).ModelVersion;
        Assert.Equal(("2", MlflowNames.StageProduction, challenged.Reason), (holder.Version, holder.CurrentStage, holder.Tag("promotion_reason")));
        Assert.Equal(MlflowNames.StageArchived, (await mlflow.Api.GetModelVersionAsync(Model, "1", CancellationToken.None)).ModelVersion.CurrentStage);
    }

    [Fact]
    public async Task AChallengerBetterOnAverageButWorseForAGroupIsRefusedAndTaggedUnlessTheDropIsAllowed()
    {
        // Arrange: version 1, trained on the first quarter of the train rows, holds Production; version 2 is trained on
        // all of them, but for patients under 50 the readmitted are, in as many, those with the fewest prior visits
        await using var app = await TrainerApp.StartAsync(encounters: 20_000);
        var champion = await RegisterFastTreeModelAsync(app, train => [.. train.Take(train.Count / 4)]);
        Assert.True((await PromoteAsync(app)).Promoted);
        var challenger = await RegisterFastTreeModelAsync(app, UnderFiftyReadmittedAgainstPriorVisits);

        // Act: under the default Promotion:MaxGroupAucDrop (0.02), then by a trainer that allows a drop of 0.1
        var refused = await PromoteAsync(app);
        var refusedVersion = (await app.MlflowClient.Api.GetModelVersionAsync(Model, "2", CancellationToken.None)).ModelVersion;
        var holderAfterRefusal = (await app.MlflowClient.GetProductionVersionAsync(Model, CancellationToken.None))!.Version;
        await using var lenient = app.Another(maxGroupAucDrop: 0.1);
        var allowed = await PromoteAsync(lenient);

        // Assert: version 2 wins on average, and loses more than 0.02 of ROC-AUC for the patients under 50, as counted
        // here from the validation rows and the two models
        var validation = await InputsAsync(app, DatasetSplit.Validation);
        var underFifty = validation.Where(v => v.AgeYears < 50).ToArray();
        var labels = underFifty.Select(v => v.Label).ToArray();
        var (held, challenging) = (BinaryMetrics.AreaUnderRoc(champion.Model.Predict(underFifty), labels),
            BinaryMetrics.AreaUnderRoc(challenger.Model.Predict(underFifty), labels));
        Assert.True(labels.Count(l => l) >= PatientGroups.MinimumPerClass);
        Assert.True(held - challenging > 0.02, $"{held} against {challenging}");
        Assert.False(refused.Promoted, refused.Reason);
        Assert.Equal(("1", "2"), (refused.Production!.Version, refused.Challenger!.Version));
        Assert.True(refused.Challenger.Metric > refused.Production.Metric);

        // The reason names the group and both figures, and is the version's tag; version 1 keeps Production
        Assert.Contains("falls behind it by more than Promotion:MaxGroupAucDrop (0.02) for age under 50 " +
            $"({underFifty.Length:N0} rows, {labels.Count(l => l):N0} readmitted): val_roc_auc {challenging:F4} against {held:F4}", refused.Reason);
        Assert.Equal(("rejected", refused.Reason), (refusedVersion.Tag("promotion_decision"), refusedVersion.Tag("promotion_reason")));
        Assert.Equal("1", holderAfterRefusal);

        // Allowed a drop of 0.1, the same challenger takes Production
        Assert.True(allowed.Promoted, allowed.Reason);
        Assert.Contains("beats version 1", allowed.Reason);
        Assert.Equal("2", (await app.MlflowClient.GetProductionVersionAsync(Model, CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task AJobWithNoCleanTrainRowsFailsWithAClearReason()
    {
        // Arrange: CLEAN DATA holds the table but no rows
        await using var app = await TrainerApp.StartAsync(encounters: 0);

        // Act
        var (started, _) = await app.StartTrainingAsync();
        var job = await app.WaitForJobAsync(started.Id);

        // Assert: the job and its MLflow run say why
        Assert.Equal(nameof(TrainingStatus.Failed), job.Status);
        Assert.Contains("CLEAN DATA has no train rows", job.Error);
        var run = (await app.MlflowClient.Api.GetRunAsync(job.ParentRunId!, CancellationToken.None)).Run;
        Assert.Equal(MlflowNames.Failed, run.Info.Status);
        Assert.Equal(job.Error, run.Data!.Tag(TrainingWorkflow.ErrorTag));

        // Nothing registered: promotion has nothing to promote
        using var promotion = await app.CreateClient().PostAsync("/api/promotions", null);
        Assert.Equal(HttpStatusCode.Conflict, promotion.StatusCode);
        Assert.Contains("No version", (await promotion.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
    }

    [Fact]
    public async Task AJobThatCannotReadCleanDataFailsItsRunWithTheReason()
    {
        // Arrange: a clean_encounters table that is not CLEAN DATA's
        await using var app = await TrainerApp.StartAsync(encounters: 0);
        await using (var database = NpgsqlDataSource.Create(app.CleanConnectionString))
        {
            await database.CreateCommand($"DROP TABLE IF EXISTS {CleanEncounterTable.Name}; CREATE TABLE {CleanEncounterTable.Name} (id int)").ExecuteNonQueryAsync();
        }

        // Act
        var (started, _) = await app.StartTrainingAsync();
        var job = await app.WaitForJobAsync(started.Id);

        // Assert: the database's own words, in the job and in its FAILED run
        Assert.Equal(nameof(TrainingStatus.Failed), job.Status);
        Assert.Contains("PostgresException", job.Error);
        var run = (await app.MlflowClient.Api.GetRunAsync(job.ParentRunId!, CancellationToken.None)).Run;
        Assert.Equal((MlflowNames.Failed, job.Error), (run.Info.Status, run.Data!.Tag(TrainingWorkflow.ErrorTag)));
    }

    [Fact]
    public async Task AJobLeftRunningByAStoppedTrainerIsMarkedFailedAtStartUp()
    {
        // Arrange: MLflow holds a job run that an earlier trainer process, which kept no lease, never finished
        await using var app = await TrainerApp.StartAsync(encounters: 0);
        using var http = new HttpClient { BaseAddress = app.Mlflow.BaseAddress };
        var experiment = await PostJsonAsync(http, "experiments/create", new { name = TrainingWorkflow.ExperimentName });
        var created = await PostJsonAsync(http, "runs/create", new
        {
            experiment_id = experiment.GetProperty("experiment_id").GetString(),
            run_name = "interrupted",
            tags = new[] { new { key = TrainingWorkflow.RoleTag, value = TrainingWorkflow.JobRole }, new { key = TrainingWorkflow.JobTag, value = "abcdef012345" } },
        });
        var runId = created.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;

        // Act: the trainer starts
        _ = app.CreateClient();

        // Assert: no trainer holds a lease for the run, so the trainer ends it
        var run = await Poll.UntilAsync(async () => (await app.MlflowClient.Api.GetRunAsync(runId, CancellationToken.None)).Run,
            run => run.Info.Status != MlflowNames.Running, "the interrupted run to end");
        Assert.Equal(MlflowNames.Failed, run.Info.Status);
        Assert.Contains("stopped during this job", run.Data!.Tag(TrainingWorkflow.ErrorTag));
    }

    /// <summary>A raw call to MLflow, with a framed body: MLflow 3 reads what PostAsJsonAsync streams chunked as empty.</summary>
    private static async Task<JsonElement> PostJsonAsync(HttpClient http, string path, object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync($"/api/2.0/mlflow/{path}", content);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task AJobWhoseTrainerStoppedMidwayAnswersFailedAfterTheRestartAndItsRunsAreMarkedFailed()
    {
        // Arrange: a job under way, candidates finishing one by one
        await using var first = await TrainerApp.StartAsync(encounters: 8_000);
        var (started, _) = await first.StartTrainingAsync();
        await first.WaitForJobAsync(started.Id, job => job.Progress.CompletedCandidates >= 1);

        // Act: the trainer stops mid-job, and a new one starts on the same CLEAN DATA and MLflow
        await using var second = first.Another();
        await first.DisposeAsync();
        var client = second.CreateClient();
        var answer = await second.WaitForJobAsync(started.Id, job => job.Status != nameof(TrainingStatus.Running));

        // Assert: the job reads Failed with why, and MLflow shows its runs FAILED, not RUNNING forever
        Assert.Equal(nameof(TrainingStatus.Failed), answer.Status);
        Assert.Equal(TrainingJobHistory.StoppedReason, answer.Error);
        Assert.NotEmpty(answer.Candidates);
        var runs = await RunsOfJobAsync(second, started.Id, until: runs => runs.All(r => r.Info.Status != MlflowNames.Running));
        Assert.All(runs.Where(r => r.Data!.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.JobRole || r.Data.Tag(TrainingWorkflow.ErrorTag) is not null),
            r => Assert.Equal((MlflowNames.Failed, TrainingJobHistory.StoppedReason), (r.Info.Status, r.Data!.Tag(TrainingWorkflow.ErrorTag))));
        Assert.Equal(nameof(TrainingStatus.Failed), (await client.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!.Status);
    }

    [Fact]
    public async Task AJobOverTheCleanDataOfTheNewestVersionIsSkippedUnlessForcedOrTheDataChanged()
    {
        // Arrange: version 1 trained on the CLEAN DATA as it is
        await using var app = await TrainerApp.StartAsync(encounters: 3_000, algorithms: "LbfgsLogisticRegression");
        var first = await app.WaitForJobAsync((await app.StartTrainingAsync()).Job.Id);

        // Act: the same data again; forced; then with a batch fewer
        var again = await app.WaitForJobAsync((await app.StartTrainingAsync()).Job.Id);
        var forced = await app.WaitForJobAsync((await app.StartForcedTrainingAsync()).Id);
        await using (var connection = new NpgsqlConnection(app.CleanConnectionString))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand("DELETE FROM clean_encounters WHERE batch_number = 2", connection).ExecuteNonQueryAsync();
        }

        var changed = await app.WaitForJobAsync((await app.StartTrainingAsync()).Job.Id);
        await using var restarted = app.Another();
        var againAfterRestart = (await restarted.CreateClient().GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{again.Id}"))!;

        // Assert: the repeat succeeded without training or registering, and says why; force and new data register
        Assert.Equal(("1", false), (first.RegisteredVersion, first.Skipped));
        Assert.Equal((nameof(TrainingStatus.Succeeded), true, null, null), (again.Status, again.Skipped, again.RegisteredVersion, again.BestRunId));
        Assert.Empty(again.Candidates);
        Assert.Contains("what version 1 was trained on", again.SkipReason);
        Assert.Contains("force", again.SkipReason);
        Assert.Equal(("2", false), (forced.RegisteredVersion, forced.Skipped));
        Assert.Equal(("3", false), (changed.RegisteredVersion, changed.Skipped));
        Assert.Equal((again.Status, again.Skipped, again.SkipReason, again.RegisteredVersion),
            (againAfterRestart.Status, againAfterRestart.Skipped, againAfterRestart.SkipReason, againAfterRestart.RegisteredVersion));
        var versions = await app.MlflowClient.Api.SearchModelVersionsAsync($"name='{Model}'", null, CancellationToken.None);
        Assert.Equal(3, versions.ModelVersions!.Count);
    }

    [Fact]
    public async Task AJobKeepsWhyItWasStartedOnItsRunAndAReasonTooLongIsA400()
    {
        // Arrange: a reason of the longest length taken, and one character more
        await using var app = await TrainerApp.StartAsync(encounters: 3_000, algorithms: "LbfgsLogisticRegression");
        var client = app.CreateClient();
        var reason = "inputs in alert over 1,000 predictions of version 3: age (AgeYears) PSI 0.412; ".PadRight(TrainingRequest.MaxReasonLength, '.');

        // Act
        using var tooLong = await client.PostAsJsonAsync("/api/trainings", new { reason = reason + "." });
        using var accepted = await client.PostAsJsonAsync("/api/trainings", new { reason });
        var job = await app.WaitForJobAsync((await accepted.Content.ReadFromJsonAsync<TrainingJobResponse>())!.Id);
        var again = await app.WaitForJobAsync((await app.StartTrainingAsync()).Job.Id);
        await using var restarted = app.Another();
        var afterRestart = (await restarted.CreateClient().GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{job.Id}"))!;

        // Assert: the long one refused, naming the field, before any job; the reason whole on the job's run, in its
        // answer and after a restart; a job started without one has none
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal($"{TrainingRequest.MaxReasonLength + 1} characters; at most {TrainingRequest.MaxReasonLength}",
            Assert.Single((await tooLong.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["reason"]));
        Assert.True(job.Status == nameof(TrainingStatus.Succeeded), job.Error);
        Assert.Equal("1", job.RegisteredVersion);
        var parent = (await app.MlflowClient.Api.GetRunAsync(job.ParentRunId!, CancellationToken.None)).Run;
        Assert.Equal(reason, parent.Data!.Tag(TrainingWorkflow.TriggerReasonTag));
        Assert.Equal((reason, reason), (job.Reason, afterRestart.Reason));
        Assert.Null(again.Reason);
        var againParent = (await app.MlflowClient.Api.GetRunAsync(again.ParentRunId!, CancellationToken.None)).Run;
        Assert.Null(againParent.Data!.Tag(TrainingWorkflow.TriggerReasonTag));
    }

    [Fact]
    public async Task AFinishedJobAnswersTheSameAfterARestart()
    {
        // Arrange
        await using var first = await TrainerApp.StartAsync(encounters: 3_000, algorithms: "LbfgsLogisticRegression");
        var (started, _) = await first.StartTrainingAsync();
        var finished = await first.WaitForJobAsync(started.Id);

        // Act
        await using var second = first.Another();
        await first.DisposeAsync();
        var answer = (await second.CreateClient().GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!;

        // Assert
        Assert.Equal(nameof(TrainingStatus.Succeeded), finished.Status);
        Assert.Equal((finished.Status, finished.ParentRunId, finished.BestRunId, finished.RegisteredVersion, finished.TrainRows),
            (answer.Status, answer.ParentRunId, answer.BestRunId, answer.RegisteredVersion, answer.TrainRows));
        Assert.Equal(finished.Batches, answer.Batches);
        Assert.Equal(finished.Candidates.Select(c => (c.RunId, c.Algorithm, c.Name)), answer.Candidates.Select(c => (c.RunId, c.Algorithm, c.Name)));
        Assert.Equal(finished.Candidates[0].Metrics["val_roc_auc"], answer.Candidates[0].Metrics["val_roc_auc"]);
        Assert.Equal(finished.Candidates[0].Parameters, answer.Candidates[0].Parameters);
    }

    [Fact]
    public async Task ATrainerNeverFailsTheJobOfAnotherLiveTrainer()
    {
        // Arrange: a trainer with a job under way
        await using var first = await TrainerApp.StartAsync(encounters: 6_000);
        var (started, _) = await first.StartTrainingAsync();
        await first.WaitForJobAsync(started.Id, job => job.ParentRunId is not null);

        // And a job run that no trainer holds a lease for: the second trainer must fail that one, in the same window
        using var http = new HttpClient { BaseAddress = first.Mlflow.BaseAddress };
        var experiment = (await first.MlflowClient.Api.GetExperimentByNameAsync(TrainingWorkflow.ExperimentName, CancellationToken.None)).Experiment;
        var orphan = (await PostJsonAsync(http, "runs/create", new
        {
            experiment_id = experiment.ExperimentId,
            run_name = "orphan",
            tags = new[] { new { key = TrainingWorkflow.RoleTag, value = TrainingWorkflow.JobRole }, new { key = TrainingWorkflow.JobTag, value = "0123456789ab" } },
        })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;

        // Act: a second trainer starts on the same CLEAN DATA and MLflow, and looks for interrupted runs at every interval
        await using var second = first.Another();
        var secondClient = second.CreateClient();
        var seenBySecond = (await secondClient.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!;
        var finished = await first.WaitForJobAsync(started.Id);

        // Assert: the second failed the orphan, saw the live job running elsewhere, and never marked its runs (the first
        // would end a run marked FAILED as FINISHED all the same, but the reason written with the mark stays)
        var orphanRun = (await RunsOfJobAsync(second, "0123456789ab", until: runs => runs.All(r => r.Info.Status != MlflowNames.Running))).Single();
        Assert.Equal(orphan, orphanRun.Info.RunId);
        Assert.Equal(MlflowNames.Failed, orphanRun.Info.Status);
        Assert.Equal(nameof(TrainingStatus.Running), seenBySecond.Status);
        Assert.Equal(nameof(TrainingStatus.Succeeded), finished.Status);
        var runs = await RunsOfJobAsync(second, started.Id, until: _ => true);
        Assert.All(runs, r => Assert.Equal((MlflowNames.Finished, null), (r.Info.Status, r.Data!.Tag(TrainingWorkflow.ErrorTag))));
        Assert.Equal(nameof(TrainingStatus.Succeeded), (await secondClient.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!.Status);
    }

    /// <summary>The runs MLflow holds for a job, once <paramref name="until"/> holds of them.</summary>
    private static Task<IReadOnlyList<Run>> RunsOfJobAsync(TrainerApp app, string jobId, Func<IReadOnlyList<Run>, bool> until) =>
        Poll.UntilAsync(() => app.MlflowClient.SearchRunsAsync(TrainingWorkflow.ExperimentName, $"tags.`{TrainingWorkflow.JobTag}` = '{jobId}'", CancellationToken.None),
            until, $"the runs of job {jobId} to get there");

    [Fact]
    public async Task WithMlflowDownAPromotionAndAJobLookupAnswer503WithRetryAfterNot500Or404()
    {
        // Arrange
        await using var app = await TrainerApp.StartAsync(encounters: 2_000);
        var client = app.CreateClient();
        app.Mlflow.Unavailable = true;

        // Act
        using var promotion = await client.PostAsync("/api/promotions", null);
        using var lookup = await client.GetAsync("/api/trainings/4e1b0c9d2a7f");

        // Assert: an unknown job is not called unknown while MLflow cannot be asked (a sensor would give up on a 404)
        foreach (var response in new[] { promotion, lookup })
        {
            await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "MLflow is unavailable");
            Assert.Equal(TimeSpan.FromSeconds(10), response.Headers.RetryAfter?.Delta);
        }
    }

    [Fact]
    public async Task WithPostgresDownAPromotionAnswers503WithRetryAfter()
    {
        // Arrange: a registered version, and a trainer whose CLEAN DATA server does not answer
        await using var first = await TrainerApp.StartAsync(encounters: 2_000, algorithms: "LbfgsLogisticRegression");
        var (started, _) = await first.StartTrainingAsync();
        await first.WaitForJobAsync(started.Id);
        await using var second = first.Another("Host=127.0.0.1;Port=9;Username=postgres;Database=cleandata;Timeout=2");
        await first.DisposeAsync();

        // Act
        using var response = await second.CreateClient().PostAsync("/api/promotions", null);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "PostgreSQL is unavailable");
        Assert.Equal(TimeSpan.FromSeconds(10), response.Headers.RetryAfter?.Delta);
    }

    [Theory]
    [InlineData("file:///srv/models/diabetes/1", "only mlflow-artifacts:")]
    [InlineData("mlflow-artifacts:/0/0123456789abcdef0123456789abcdef/artifacts/model", "has no model.zip under")]
    public async Task AVersionWhoseModelCannotBeHadAnswers502(string source, string detail)
    {
        // Arrange: the newest version points at a model the artifact store cannot give
        await using var app = await TrainerApp.StartAsync(encounters: 2_000);
        await app.MlflowClient.EnsureRegisteredModelAsync(TrainingWorkflow.ModelName, "test", CancellationToken.None);
        await app.MlflowClient.Api.CreateModelVersionAsync(new CreateModelVersionRequest(TrainingWorkflow.ModelName, source, null, null, null), CancellationToken.None);

        // Act
        using var response = await app.CreateClient().PostAsync("/api/promotions", null);

        // Assert
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadGateway, "A model cannot be had from the artifact store");
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(title, problem.GetProperty("title").GetString());
        return problem;
    }

    [Fact]
    public async Task AnUnknownJobIsNotFound()
    {
        await using var app = await TrainerApp.StartAsync(encounters: 0);

        using var response = await app.CreateClient().GetAsync("/api/trainings/000000000000");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task HealthSaysWhenMlflowIsDown()
    {
        await using var app = await TrainerApp.StartAsync(encounters: 0);
        var client = app.CreateClient();

        using var up = await client.GetAsync("/health");
        app.Mlflow.Unavailable = true;
        using var down = await client.GetAsync("/health");
        using var alive = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task HealthSaysWhenMlflowRefusesTheTrainersHostName()
    {
        // Arrange: MLflow 3 whose --allowed-hosts names only the service, reached by its loopback address
        await using var app = await TrainerApp.StartAsync(encounters: 0, mlflowAllowedHosts: ["mlflow", "mlflow:*"]);
        using var mlflowHealth = new HttpClient { BaseAddress = app.Mlflow.BaseAddress };

        // Act
        using var serverHealth = await mlflowHealth.GetAsync("/health");
        using var trainerHealth = await app.CreateClient().GetAsync("/health");

        // Assert: MLflow's own /health is green, yet the trainer cannot work and says so
        Assert.Equal(HttpStatusCode.OK, serverHealth.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, trainerHealth.StatusCode);
        Assert.Contains(app.Mlflow.Requests("/api/2.0/mlflow/experiments/search"), r => r.Status == 403);
    }

    private static async Task<PromotionResponse> PromoteAsync(TrainerApp app)
    {
        using var response = await app.CreateClient().PostAsync("/api/promotions", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PromotionResponse>())!;
    }

    /// <summary>Every version's stage, aliases and tags, as JSON: equal snapshots mean nothing changed.</summary>
    private static async Task<string> RegistryStateAsync(TrainerApp app)
    {
        var versions = (await app.MlflowClient.Api.SearchModelVersionsAsync($"name='{Model}'", null, CancellationToken.None)).ModelVersions!;
        var model = (await app.MlflowClient.Api.GetRegisteredModelAsync(Model, CancellationToken.None)).RegisteredModel;
        return JsonSerializer.Serialize(new { versions, aliases = model.Aliases });
    }

    /// <summary>A split of CLEAN DATA as the trainer reads it, in model inputs.</summary>
    private static async Task<List<ModelInput>> InputsAsync(TrainerApp app, DatasetSplit split)
    {
        await using var database = NpgsqlDataSource.Create(app.CleanConnectionString);
        return [.. (await new CleanDataReader(database).ReadAsync(split, CancellationToken.None)).Inputs];
    }

    /// <summary>
    /// Registers a new version, its model folder as the trainer writes it: a real FastTree model of the same pipeline,
    /// trained on CLEAN DATA's train rows as <paramref name="trainOn"/> makes them.
    /// </summary>
    private static async Task<TrainedCandidate> RegisterFastTreeModelAsync(TrainerApp app, Func<List<ModelInput>, List<ModelInput>> trainOn)
    {
        var train = trainOn(await InputsAsync(app, DatasetSplit.Train));
        var trainer = new ModelTrainer(train, await InputsAsync(app, DatasetSplit.Validation));
        var trained = trainer.Train(Candidates.All.First(c => c.Algorithm == "FastTree"));
        await ModelPublisher.PublishAsync(app.MlflowClient, trained, trainer.Features, new ModelLineage(["test"], [1], train.Count, 0, "digest"), promote: false);
        return trained;
    }

    private static List<ModelInput> ShuffledLabels(List<ModelInput> train)
    {
        var random = new Random(7);
        var labels = train.Select(t => t.Label).OrderBy(_ => random.Next()).ToArray();
        for (var i = 0; i < train.Count; i++)
        {
            train[i].Label = labels[i];
        }

        return train;
    }

    /// <summary>
    /// The rows with the labels of the patients under 50 turned against what the data says: as many of them readmitted
    /// as before, but those with the fewest prior inpatient and emergency visits, the dataset's strongest sign of a
    /// readmission.
    /// </summary>
    private static List<ModelInput> UnderFiftyReadmittedAgainstPriorVisits(List<ModelInput> train)
    {
        var group = train.Where(t => t.AgeYears < 50).ToArray();
        var readmitted = group.Count(t => t.Label);
        var byPriorVisits = group.Select((row, index) => (row, index)).OrderBy(r => r.row.NumberInpatient + r.row.NumberEmergency).ThenBy(r => r.index).ToArray();
        for (var i = 0; i < byPriorVisits.Length; i++)
        {
            byPriorVisits[i].row.Label = i < readmitted;
        }

        return train;
    }

    /// <summary>The same groups with the same counts and, to nine digits, the same figures.</summary>
    private static void AssertSameGroups(IReadOnlyList<GroupMetrics> expected, IReadOnlyList<GroupMetrics> actual)
    {
        Assert.Equal(expected.Select(g => (g.Key, g.Rows, g.Positives, g.TooSmall)), actual.Select(g => (g.Key, g.Rows, g.Positives, g.TooSmall)));
        foreach (var (e, a) in expected.Zip(actual))
        {
            foreach (var (x, y) in new[] { (e.RocAuc?.Value, a.RocAuc?.Value), (e.RocAuc?.Low, a.RocAuc?.Low), (e.RocAuc?.High, a.RocAuc?.High),
                (e.PredictedPositiveRate, a.PredictedPositiveRate), (e.TruePositiveRate, a.TruePositiveRate), (e.FalsePositiveRate, a.FalsePositiveRate) })
            {
                Assert.Equal(x is null, y is null);
                Assert.Equal(x ?? 0, y ?? 0, 9);
            }
        }
    }
}
