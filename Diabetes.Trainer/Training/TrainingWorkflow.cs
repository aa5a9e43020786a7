using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Microsoft.Extensions.Options;

namespace Diabetes.Trainer.Training;

/// <summary>
/// A training job from CLEAN DATA to a registered model version: the parent run, one child run per candidate
/// (params, validation metrics, training dataset, model folder), the best candidate judged once on the test set
/// (test metrics and plots) and per patient group, its model card, and its registration as a new version of
/// <see cref="ModelName"/>.
/// </summary>
public sealed class TrainingWorkflow(CleanDataReader data, MlflowClient mlflow, JobLeases leases, IOptions<TrainingOptions> options,
    IOptions<PromotionOptions> promotionOptions, TimeProvider timeProvider, ILogger<TrainingWorkflow> logger)
{
    public const string ExperimentName = ModelArtifacts.RegisteredModelName;
    public const string ModelName = ModelArtifacts.RegisteredModelName;
    public const string JobTag = "diabetes.job_id";
    public const string RoleTag = "diabetes.role";
    public const string ErrorTag = "diabetes.error";
    public const string JobRole = "training-job";
    public const string CandidateRole = "candidate";
    public const string CandidateTag = "candidate";
    public const string BestRunTag = "best_run_id";
    public const string RegisteredVersionTag = "registered_version";

    /// <summary>On a job's run and a registered version: the digest of the CLEAN DATA trained on (<see cref="CleanDataDigest"/>).</summary>
    public const string CleanDataDigestTag = "clean_data_digest";

    /// <summary>On the run of a job that trained nothing: why.</summary>
    public const string SkippedTag = "diabetes.skipped";

    /// <summary>On a job's run: why it was started, when its request said (<see cref="TrainingRequest.Reason"/>).</summary>
    public const string TriggerReasonTag = "diabetes.trigger_reason";

    // MLflow cuts tag values over 8,000 characters; a reason is cut well below that, where it can say so.
    private const int MaxErrorTagLength = 4_000;

    public static readonly ActivitySource ActivitySource = new("Diabetes.Trainer");

    public async Task RunAsync(TrainingJob job, CancellationToken stoppingToken)
    {
        using var activity = ActivitySource.StartActivity("training.job");
        activity?.SetTag("training.job_id", job.Id);
        // The lease before the run: a job run without one is any trainer's to fail.
        await using var lease = await leases.AcquireAsync(job.Id, stoppingToken);
        try
        {
            await TrainAsync(job, lease, lease.Token);
        }
        catch (Exception exception) when (lease.IsLost && !stoppingToken.IsCancellationRequested)
        {
            throw new TrainingRefusedException(
                $"This trainer lost the job's lease (PostgreSQL did not answer it for {options.Value.LeaseDuration}, or another trainer took the job over): " +
                "it stopped without writing results, and the trainer holding the lease marks the job's runs failed. Start a new job.", exception);
        }
    }

    /// <summary>
    /// The job under its lease. <paramref name="cancellationToken"/> ends it when the trainer stops or the lease is lost:
    /// from then on it writes nothing, a failure included, and the runs are left to whoever holds the lease next.
    /// </summary>
    private async Task TrainAsync(TrainingJob job, JobLease lease, CancellationToken cancellationToken)
    {
        // The run first, so that a job that fails from here on, CLEAN DATA unreadable included, says why in MLflow too.
        var experimentId = await mlflow.GetOrCreateExperimentAsync(ExperimentName, cancellationToken);
        var tags = new Dictionary<string, string> { [JobTag] = job.Id, [RoleTag] = JobRole };
        if (job.Reason is { } startedFor)
        {
            tags[TriggerReasonTag] = startedFor;
        }

        var parent = await mlflow.StartRunAsync(experimentId, $"training-{job.Id}", tags, null, cancellationToken);
        job.SetParentRun(parent.RunId);
        RunInfo? current = null;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            job.Stage("reading CLEAN DATA");
            var snapshot = await data.ReadSnapshotAsync(cancellationToken);
            var (train, validation, test, _) = snapshot;
            EnsureTrainable(train, validation);
            var lineage = snapshot.Lineage();
            var candidates = options.Value.SelectedCandidates();
            var dataDigest = CleanDataDigest(train, validation, test);
            if (!job.Force && await TrainedOnAlreadyAsync(dataDigest, cancellationToken) is { } trainedOn)
            {
                await SkipAsync(job, parent, lease, train, validation, test, lineage, dataDigest, trainedOn, cancellationToken);
                return;
            }

            job.Started(parent.RunId, train.Count, train.Batches, candidates.Count);
            logger.LogInformation("Training job {JobId}: {TrainRows:N0} train rows from batches {Batches}, {ValidationRows:N0} validation rows, {Candidates} candidates, read in {Elapsed:N1} s",
                job.Id, train.Count, string.Join(",", train.Batches), validation.Count, candidates.Count, stopwatch.Elapsed.TotalSeconds);
            await LogParentAsync(parent, train, validation, test, lineage, dataDigest, candidates.Count, cancellationToken);

            job.Stage("featurizing");
            var trainer = new ModelTrainer(train.Inputs, validation.Inputs);
            await mlflow.LogAsync(parent.RunId, parameters: new Dictionary<string, string>
            {
                ["positive_weight"] = trainer.PositiveWeight.ToString("F4", CultureInfo.InvariantCulture),
                ["minimum_category_count"] = FeaturePipeline.MinimumCategoryCount.ToString(CultureInfo.InvariantCulture),
            }, cancellationToken: cancellationToken);

            // Only the best candidate so far is kept: every other model is dropped once it is logged, and summed up for the card.
            (RunInfo Run, TrainedCandidate Trained, DateTimeOffset Created)? best = null;
            var tried = new List<CandidateSummary>();
            for (var i = 0; i < candidates.Count; i++)
            {
                job.Stage($"candidate {i + 1} of {candidates.Count}: {candidates[i].Name}");
                logger.LogInformation("Training job {JobId}: candidate {Index} of {Count} {Candidate}, {Elapsed:N0} s elapsed",
                    job.Id, i + 1, candidates.Count, candidates[i].Name, stopwatch.Elapsed.TotalSeconds);
                current = await mlflow.StartRunAsync(experimentId, $"{candidates[i].Algorithm}-{i + 1}",
                    new Dictionary<string, string> { [JobTag] = job.Id, [RoleTag] = CandidateRole }, parent.RunId, cancellationToken);
                var trained = trainer.Train(candidates[i]);
                var created = await LogCandidateAsync(current, trained, trainer.Features, train, lineage, cancellationToken);
                if (best is null || trained.Validation.RocAuc > best.Value.Trained.Validation.RocAuc)
                {
                    best = (current, trained, created);
                }

                tried.Add(CandidateSummary.Of(current.RunId, trained));

                job.CandidateFinished(new CandidateResult(current.RunId, trained.Candidate.Algorithm, trained.Candidate.Name,
                    trained.Candidate.Parameters, Prefixed("val_", ModelFolder.Metrics(trained.Validation), trained.TrainSeconds)));
                current = null;
            }

            var (bestRun, chosen, chosenCreated) = best!.Value;
            job.Stage("testing the best candidate");
            var figures = await LogBestAsync(parent, bestRun, chosen, validation, test, cancellationToken);
            var testMetrics = figures.Test?.Metrics;

            // The card before the version, so that no registered version lacks one.
            job.Stage("writing the model card");
            var card = ModelCard.Describe(job.Id, bestRun.RunId, chosen, figures, tried, snapshot, trainer.PositiveWeight,
                promotionOptions.Value.MaxGroupAucDrop, chosenCreated);
            await UploadAsync(bestRun, card.ToArtifact(), cancellationToken);

            job.Stage("registering");
            // The version only under a lease just renewed: a trainer that lost the job never registers one.
            await lease.ConfirmAsync();
            var version = await RegisterAsync(bestRun, chosen, testMetrics, lineage, dataDigest, cancellationToken);
            await mlflow.LogAsync(parent.RunId, tags: new Dictionary<string, string> { [RegisteredVersionTag] = version.Version }, cancellationToken: cancellationToken);
            await mlflow.EndRunAsync(parent.RunId, MlflowNames.Finished, cancellationToken);
            await lease.EndAsync();
            job.Succeeded(bestRun.RunId, version.Version);
            logger.LogInformation("Training job {JobId} registered {Model} version {Version}: {Algorithm}, val_roc_auc {ValAuc:F4}, test_roc_auc {TestAuc}, {Elapsed:N0} s",
                job.Id, ModelName, version.Version, chosen.Candidate.Name, chosen.Validation.RocAuc, testMetrics?.RocAuc.ToString("F4", CultureInfo.InvariantCulture) ?? "(no test set)", stopwatch.Elapsed.TotalSeconds);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = exception is TrainingRefusedException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";
            await RecordFailureAsync(parent, current, reason, cancellationToken);
            await lease.EndAsync();
            throw;
        }
    }

    private static void EnsureTrainable(SplitData train, SplitData validation)
    {
        if (train.Count == 0)
        {
            throw new TrainingRefusedException(
                "CLEAN DATA has no train rows: load at least one batch (POST ingest/api/batches/next) and clean it (POST ingest/api/clean) first.");
        }

        if (validation.Count == 0)
        {
            throw new TrainingRefusedException(
                "CLEAN DATA has no validation rows to choose a model with: prepare the dataset (POST ingest/api/dataset/prepare) and clean it first.");
        }

        if (!train.HasBothOutcomes || !validation.HasBothOutcomes)
        {
            throw new TrainingRefusedException(
                $"Both outcomes must occur in train ({train.Positives:N0} readmitted of {train.Count:N0}) and validation ({validation.Positives:N0} of {validation.Count:N0}).");
        }
    }

    /// <summary>
    /// What identifies the CLEAN DATA a job reads: the SHA-256 of its three splits' digests (each of its sorted encounter
    /// ids). Equal digests mean the very same rows in the very same splits.
    /// </summary>
    public static string CleanDataDigest(SplitData train, SplitData validation, SplitData test) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.ASCII.GetBytes($"{train.Digest},{validation.Digest},{test.Digest}")));

    /// <summary>The newest registered version when it was trained on exactly this CLEAN DATA, else null.</summary>
    private async Task<ModelVersion?> TrainedOnAlreadyAsync(string dataDigest, CancellationToken cancellationToken) =>
        await mlflow.GetNewestVersionAsync(ModelName, cancellationToken) is { } newest && newest.Tag(CleanDataDigestTag) == dataDigest
            ? newest
            : null;

    /// <summary>Ends a job that has nothing new to train on: its run records the data it read and why it stopped.</summary>
    private async Task SkipAsync(
        TrainingJob job, RunInfo parent, JobLease lease, SplitData train, SplitData validation, SplitData test, ModelLineage lineage,
        string dataDigest, ModelVersion trainedOn, CancellationToken cancellationToken)
    {
        var reason = $"CLEAN DATA is what version {trainedOn.Version} was trained on (digest {dataDigest}): nothing new to train on, " +
            "nothing registered. Start the job with {\"force\": true} to train anyway.";
        job.Started(parent.RunId, train.Count, train.Batches, 0);
        await LogParentAsync(parent, train, validation, test, lineage, dataDigest, 0, cancellationToken);
        await mlflow.LogAsync(parent.RunId, tags: new Dictionary<string, string> { [SkippedTag] = reason }, cancellationToken: cancellationToken);
        await mlflow.EndRunAsync(parent.RunId, MlflowNames.Finished, cancellationToken);
        await lease.EndAsync();
        job.Skipped(reason);
        logger.LogInformation("Training job {JobId} skipped: {Reason}", job.Id, reason);
    }

    private async Task LogParentAsync(
        RunInfo parent, SplitData train, SplitData validation, SplitData test, ModelLineage lineage, string dataDigest, int candidates,
        CancellationToken cancellationToken)
    {
        await mlflow.LogAsync(parent.RunId,
            parameters: new Dictionary<string, string>
            {
                ["train_rows"] = Text(train.Count),
                ["validation_rows"] = Text(validation.Count),
                ["test_rows"] = Text(test.Count),
                ["batches"] = string.Join(",", train.Batches),
                ["source_sha256"] = string.Join(",", lineage.SourceSha256),
                ["candidates"] = Text(candidates),
                ["selection_metric"] = "val_roc_auc",
                [CleanDataDigestTag] = dataDigest,
            },
            tags: new Dictionary<string, string>
            {
                ["batches"] = string.Join(",", train.Batches),
                ["source_sha256"] = string.Join(",", lineage.SourceSha256),
            },
            cancellationToken: cancellationToken);
        foreach (var (split, context) in new[] { (train, "training"), (validation, "validation"), (test, "testing") })
        {
            await mlflow.LogDatasetAsync(parent.RunId, DatasetOf(split, lineage), context, cancellationToken);
        }
    }

    /// <summary>Logs a candidate's run and model folder; answers the time its <c>metadata.json</c> records as its creation.</summary>
    private async Task<DateTimeOffset> LogCandidateAsync(
        RunInfo run, TrainedCandidate trained, FeaturePipeline features, SplitData train, ModelLineage lineage, CancellationToken cancellationToken)
    {
        await mlflow.LogAsync(run.RunId,
            metrics: Prefixed("val_", ModelFolder.Metrics(trained.Validation), trained.TrainSeconds),
            parameters: new Dictionary<string, string>(trained.Candidate.Parameters) { ["algorithm"] = trained.Candidate.Algorithm },
            tags: new Dictionary<string, string> { ["algorithm"] = trained.Candidate.Algorithm, [CandidateTag] = trained.Candidate.Name },
            cancellationToken: cancellationToken);
        await mlflow.LogDatasetAsync(run.RunId, DatasetOf(train, lineage), "training", cancellationToken);
        var created = timeProvider.GetUtcNow();
        foreach (var file in ModelFolder.Build(run.RunId, trained, features, lineage, created))
        {
            await UploadAsync(run, file, cancellationToken);
        }

        await mlflow.EndRunAsync(run.RunId, MlflowNames.Finished, cancellationToken);
        return created;
    }

    /// <summary>
    /// The test set, used once, and the chosen model's figures per patient group and importance of inputs
    /// (<see cref="ChosenModelFigures"/>): test metrics and plots when there is a usable test set, the importance plot,
    /// <c>slices.json</c> and its plot, and each group's figures as metrics (<c>val_roc_auc.race.Caucasian</c>,
    /// <c>test_tpr.age.70_and_over</c>, …).
    /// </summary>
    private async Task<ChosenModelFigures> LogBestAsync(
        RunInfo parent, RunInfo bestRun, TrainedCandidate best, SplitData validation, SplitData test, CancellationToken cancellationToken)
    {
        var figures = ChosenModelFigures.Measure(best, validation, test);
        if (figures is { Test: { } tested, TestProbabilities: { } probabilities })
        {
            var testLabels = test.Inputs.Select(r => r.Label).ToArray();
            await UploadPlotAsync(bestRun, "plots/roc_curve.png", Plots.Roc(probabilities, testLabels, $"ROC curve on the test set - {best.Candidate.Algorithm}"), cancellationToken);
            await UploadPlotAsync(bestRun, "plots/precision_recall_curve.png", Plots.PrecisionRecall(probabilities, testLabels, $"Precision-recall on the test set - {best.Candidate.Algorithm}"), cancellationToken);
            await UploadPlotAsync(bestRun, "plots/confusion_matrix.png", Plots.Confusion(tested.Metrics.Confusion, tested.Metrics.Threshold, "Confusion matrix on the test set"), cancellationToken);
        }

        await UploadPlotAsync(bestRun, "plots/feature_importance.png",
            Plots.FeatureImportance(figures.Importance, $"Permutation importance on validation ({figures.ImportanceRows:N0} rows)"), cancellationToken);
        await mlflow.UploadArtifactAsync(bestRun, "feature_importance.json",
            JsonSerializer.SerializeToUtf8Bytes(figures.Importance.Select(i => new { feature = i.Feature, roc_auc_drop = i.RocAucDrop })), "application/json", cancellationToken);
        foreach (var file in figures.GroupArtifacts(best.Candidate.Algorithm))
        {
            await UploadAsync(bestRun, file, cancellationToken);
        }

        var testValues = figures.Test is null ? new Dictionary<string, double>() : Prefixed("test_", ModelFolder.Metrics(figures.Test.Metrics), null);
        var groupValues = figures.Slices.Splits.SelectMany(split =>
            Prefixed(SplitRule.Parse(split.Split) == DatasetSplit.Validation ? "val_" : "test_", split.Metrics(), null));
        await mlflow.LogAsync(bestRun.RunId, metrics: new Dictionary<string, double>(testValues.Concat(groupValues)),
            tags: new Dictionary<string, string> { ["chosen"] = "true" }, cancellationToken: cancellationToken);
        await mlflow.LogAsync(parent.RunId,
            metrics: new Dictionary<string, double>(testValues) { ["best_val_roc_auc"] = best.Validation.RocAuc },
            tags: new Dictionary<string, string> { [BestRunTag] = bestRun.RunId, ["best_algorithm"] = best.Candidate.Name },
            cancellationToken: cancellationToken);
        return figures;
    }

    private async Task<ModelVersion> RegisterAsync(
        RunInfo bestRun, TrainedCandidate best, BinaryMetrics? test, ModelLineage lineage, string dataDigest, CancellationToken cancellationToken)
    {
        await mlflow.EnsureRegisteredModelAsync(ModelName,
            "Readmission within 30 days of a diabetic inpatient encounter (Diabetes 130-US hospitals 1999-2008).", cancellationToken);
        var tags = new Dictionary<string, string>
        {
            ["algorithm"] = best.Candidate.Algorithm,
            ["candidate"] = best.Candidate.Name,
            ["val_roc_auc"] = Text(best.Validation.RocAuc),
            ["threshold"] = Text(best.Validation.Threshold),
            ["batches"] = string.Join(",", lineage.Batches),
            ["train_rows"] = Text(lineage.TrainRows),
            ["source_sha256"] = string.Join(",", lineage.SourceSha256),
            [CleanDataDigestTag] = dataDigest,
        };
        if (test is not null)
        {
            tags["test_roc_auc"] = Text(test.RocAuc);
        }

        return (await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest(ModelName, $"{bestRun.ArtifactUri}/{ModelFolder.Path}", bestRun.RunId,
            $"{best.Candidate.Name}, trained on batches {string.Join(",", lineage.Batches)}",
            [.. tags.Select(t => new MlflowTag(t.Key, t.Value))]), cancellationToken)).ModelVersion;
    }

    /// <summary>
    /// Marks the runs failed with the reason. The status is set even when the tags are refused; MLflow being down too
    /// is logged, not thrown over the first error.
    /// </summary>
    private async Task RecordFailureAsync(RunInfo parent, RunInfo? candidate, string reason, CancellationToken cancellationToken)
    {
        var tagged = reason.Length <= MaxErrorTagLength ? reason : reason[..(MaxErrorTagLength - 1)] + "…";
        foreach (var run in new[] { candidate, parent }.OfType<RunInfo>())
        {
            try
            {
                await mlflow.LogAsync(run.RunId, tags: new Dictionary<string, string> { [ErrorTag] = tagged, [MlflowNames.NoteTag] = $"Failed: {tagged}" },
                    cancellationToken: cancellationToken);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Could not tag run {RunId} with why it failed", run.RunId);
            }

            try
            {
                await mlflow.EndRunAsync(run.RunId, MlflowNames.Failed, cancellationToken);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Could not mark run {RunId} failed in MLflow", run.RunId);
            }
        }
    }

    private Task UploadPlotAsync(RunInfo run, string path, byte[] png, CancellationToken cancellationToken) =>
        mlflow.UploadArtifactAsync(run, path, png, "image/png", cancellationToken);

    private Task UploadAsync(RunInfo run, ArtifactFile file, CancellationToken cancellationToken) =>
        mlflow.UploadArtifactAsync(run, file.Path, file.Content, file.ContentType, cancellationToken);

    private static Dataset DatasetOf(SplitData split, ModelLineage lineage) => new(
        $"diabetes-clean-{split.Split.ToName()}",
        split.Digest[..16],
        "postgresql",
        JsonSerializer.Serialize(new
        {
            database = "cleandata",
            table = CleanEncounterTable.Name,
            split = split.Split.ToName(),
            batches = split.Batches,
            source_sha256 = lineage.SourceSha256,
            digest_sha256 = split.Digest,
        }),
        JsonSerializer.Serialize(new { mlflow_colspec = FeaturePipeline.InputColumns.Select(c => new { type = "string", name = c }) }),
        JsonSerializer.Serialize(new { num_rows = split.Count, readmitted_within_30_days = split.Positives }));

    private static Dictionary<string, double> Prefixed(string prefix, IReadOnlyDictionary<string, double> metrics, double? trainSeconds)
    {
        var values = metrics.ToDictionary(m => prefix + m.Key, m => m.Value);
        if (trainSeconds is { } seconds)
        {
            values["train_seconds"] = seconds;
        }

        return values;
    }

    private static string Text(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
