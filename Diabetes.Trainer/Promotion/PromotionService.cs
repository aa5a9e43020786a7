using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Serialization;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Trainer.Training;
using Microsoft.Extensions.Options;
using static System.FormattableString;

namespace Diabetes.Trainer.Promotion;

/// <summary>
/// A version, its ROC AUC on the current validation set, and its figures for each patient group on validation and, when
/// the test set has both outcomes, on test: <see cref="Splits"/> as <c>splits</c> of <c>slices.json</c> are.
/// </summary>
public sealed record ScoredVersion(string Version, double Metric, IReadOnlyList<SplitSlices> Splits)
{
    /// <summary>The groups on validation, the only split a promotion decides by.</summary>
    [JsonIgnore]
    public IReadOnlyList<GroupMetrics> ValidationGroups => Splits.Single(s => s.Split == DatasetSplit.Validation.ToName()).Groups;
}

/// <summary>Answer of <c>POST /api/promotions</c>.</summary>
public sealed record PromotionResponse(bool Promoted, ScoredVersion? Production, ScoredVersion? Challenger, string Reason);

/// <summary>
/// Champion against challenger: the newest registered version against the one holding Production, both scored on
/// the validation set as CLEAN DATA holds it now; the better holds Production (alias and stage), unless the
/// challenger does worse than the champion for a patient group by more than <see cref="PromotionOptions.MaxGroupAucDrop"/>.
/// Both are measured per group on the test set too, for the answer only: the test split never chooses.
/// Calls run one at a time, and a second call with nothing new changes nothing. Reasons are tagged on versions, so
/// they are written in the invariant culture.
/// </summary>
public sealed class PromotionService(
    CleanDataReader data, MlflowClient mlflow, IOptions<PromotionOptions> options, TimeProvider timeProvider, ILogger<PromotionService> logger)
{
    public const string MetricName = "val_roc_auc";

    private readonly SemaphoreSlim _gate = new(1, 1);

    // A version's model never changes once registered, so a loaded model is kept (keyed by version and creation
    // time, so that a model deleted and registered again is not mistaken for the old one).
    private readonly ConcurrentDictionary<string, LoadedVersion> _models = new();

    public async Task<PromotionResponse> PromoteAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var newest = await mlflow.GetNewestVersionAsync(TrainingWorkflow.ModelName, cancellationToken)
                ?? throw new PromotionRefusedException($"No version of {TrainingWorkflow.ModelName} is registered yet: run a training job (POST /api/trainings) first.");
            var production = await mlflow.GetProductionVersionAsync(TrainingWorkflow.ModelName, cancellationToken);
            ForgetModelsExcept(newest, production);
            var validation = await data.ReadAsync(DatasetSplit.Validation, cancellationToken);
            var inputs = validation.Inputs;
            if (!validation.HasBothOutcomes)
            {
                throw new PromotionRefusedException("CLEAN DATA has no validation set with both outcomes to judge versions on.");
            }

            // Test is measured for the answer (groups on test beside validation's) and never read by the decision.
            var test = await data.ReadAsync(DatasetSplit.Test, cancellationToken);
            var challenger = await ScoreAsync(newest, validation, test, cancellationToken);
            if (production is null)
            {
                var reason = Invariant($"version {newest.Version} is the first to hold Production ({MetricName} {challenger.Metric:F4} on {inputs.Count:N0} validation rows)");
                await GiveProductionAsync(newest.Version, reason, cancellationToken);
                return new PromotionResponse(true, challenger, challenger, reason);
            }

            if (production.Version == newest.Version)
            {
                // A promotion cut short (alias, stage or tags missing) is finished now; a complete one is left alone.
                var complete = production.CurrentStage == MlflowNames.StageProduction && production.Tag(PromotionTags.Decision) == PromotionTags.Promoted
                    && production.Aliases?.Contains(MlflowClient.ProductionAlias) == true;
                if (!complete)
                {
                    var reason = Invariant($"version {newest.Version} completes its promotion ({MetricName} {challenger.Metric:F4} on {inputs.Count:N0} validation rows)");
                    await GiveProductionAsync(newest.Version, reason, cancellationToken);
                    return new PromotionResponse(true, challenger, challenger, reason);
                }

                return new PromotionResponse(false, challenger, challenger, $"version {newest.Version}, the newest, already holds Production");
            }

            var champion = await ScoreAsync(production, validation, test, cancellationToken);
            if (challenger.Metric <= champion.Metric)
            {
                return await RejectAsync(newest, champion, challenger,
                    Invariant($"version {champion.Version} ({MetricName} {champion.Metric:F4}) keeps Production: version {challenger.Version} scores {challenger.Metric:F4} on {inputs.Count:N0} validation rows"),
                    cancellationToken);
            }

            var maxDrop = options.Value.MaxGroupAucDrop;
            var worse = GroupsFallenBehind(champion, challenger, maxDrop);
            if (worse.Count > 0)
            {
                return await RejectAsync(newest, champion, challenger,
                    Invariant($"version {champion.Version} keeps Production: version {challenger.Version} beats it on average ({MetricName} {challenger.Metric:F4} against {champion.Metric:F4} ") +
                    Invariant($"on {inputs.Count:N0} validation rows) but falls behind it by more than Promotion:MaxGroupAucDrop ({maxDrop}) for ") +
                    string.Join("; ", worse.Select(g => Invariant($"{g.Challenger} ({g.Challenger.Rows:N0} rows, {g.Challenger.Positives:N0} readmitted): ") +
                        Invariant($"{MetricName} {g.Challenger.RocAuc!.Value.Value:F4} against {g.Champion.RocAuc!.Value.Value:F4}"))),
                    cancellationToken);
            }

            var beats = Invariant($"version {challenger.Version} ({MetricName} {challenger.Metric:F4}) beats version {champion.Version} ({champion.Metric:F4}) on {inputs.Count:N0} validation rows");
            await GiveProductionAsync(challenger.Version, beats, cancellationToken);
            return new PromotionResponse(true, challenger, champion, beats);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The groups scored on validation for both versions in which the challenger's ROC-AUC is lower than the champion's
    /// by more than <paramref name="maxDrop"/>, the largest fall first. Test is not read: it never chooses.
    /// </summary>
    private static List<(GroupMetrics Champion, GroupMetrics Challenger)> GroupsFallenBehind(ScoredVersion champion, ScoredVersion challenger, double maxDrop) =>
    [
        .. champion.ValidationGroups.Join(challenger.ValidationGroups, g => g.Key, g => g.Key, (held, challenging) => (Champion: held, Challenger: challenging))
            .Where(g => g.Champion.RocAuc is { } held && g.Challenger.RocAuc is { } challenging && held.Value - challenging.Value > maxDrop)
            .OrderByDescending(g => g.Champion.RocAuc!.Value.Value - g.Challenger.RocAuc!.Value.Value),
    ];

    /// <summary>The champion keeps Production: the challenger is tagged rejected with the reason, unless it is already.</summary>
    private async Task<PromotionResponse> RejectAsync(
        ModelVersion newest, ScoredVersion champion, ScoredVersion challenger, string reason, CancellationToken cancellationToken)
    {
        if (newest.Tag(PromotionTags.Decision) != PromotionTags.Rejected || newest.Tag(PromotionTags.Reason) != reason)
        {
            await TagAsync(challenger.Version, PromotionTags.Rejected, reason, cancellationToken);
        }

        logger.LogInformation("Promotion: {Reason}", reason);
        return new PromotionResponse(false, champion, challenger, reason);
    }

    private async Task GiveProductionAsync(string version, string reason, CancellationToken cancellationToken)
    {
        await mlflow.PromoteAsync(TrainingWorkflow.ModelName, version, cancellationToken);
        await TagAsync(version, PromotionTags.Promoted, reason, cancellationToken);
        logger.LogInformation("Promotion: {Reason}", reason);
    }

    private async Task TagAsync(string version, string decision, string reason, CancellationToken cancellationToken)
    {
        var at = timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        foreach (var (key, value) in new[] { (PromotionTags.Decision, decision), (PromotionTags.Reason, reason), (PromotionTags.At, at) })
        {
            await mlflow.Api.SetModelVersionTagAsync(new SetModelVersionTagRequest(TrainingWorkflow.ModelName, version, key, value), cancellationToken);
        }
    }

    /// <summary>Drops the loaded models of versions that are neither the newest nor the one holding Production.</summary>
    private void ForgetModelsExcept(params ModelVersion?[] kept)
    {
        var keys = kept.OfType<ModelVersion>().Select(v => v.Identity).ToHashSet();
        foreach (var key in _models.Keys.Where(k => !keys.Contains(k)))
        {
            _models.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// The version's model.zip and the decision threshold of its metadata.json. A root the trainer cannot read, or a
    /// file that is not there or cannot be read, is the version's fault (<see cref="ModelArtifactException"/>); a store
    /// that fails otherwise is a fault of the store, thrown as it is.
    /// </summary>
    private async Task<LoadedVersion> LoadAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        var root = await mlflow.ResolveModelRootAsync(version, cancellationToken);
        if (mlflow.WhyUnreadable(root) is { } unreadable)
        {
            throw new ModelArtifactException($"Version {version.Version}: {unreadable}");
        }

        var model = ReadmissionModel.Load(await DownloadAsync(version, root, ModelArtifacts.ModelFile, cancellationToken));
        try
        {
            return new LoadedVersion(model, ModelMetadata.Parse(await DownloadAsync(version, root, ModelArtifacts.MetadataFile, cancellationToken)).Threshold);
        }
        catch (System.Text.Json.JsonException exception)
        {
            throw new ModelArtifactException($"Version {version.Version}: {ModelArtifacts.MetadataFile} cannot be read: {exception.Message}", exception);
        }
    }

    private async Task<byte[]> DownloadAsync(ModelVersion version, string root, string file, CancellationToken cancellationToken) =>
        await mlflow.FindArtifactAsync(root, file, cancellationToken)
            ?? throw new ModelArtifactException($"Version {version.Version} has no {file} under {root}.");

    /// <summary>
    /// The version judged on <paramref name="validation"/>: ROC-AUC over it all, and per patient group at its own threshold
    /// there and on <paramref name="test"/> when both outcomes occur in it.
    /// </summary>
    private async Task<ScoredVersion> ScoreAsync(ModelVersion version, SplitData validation, SplitData test, CancellationToken cancellationToken)
    {
        var key = version.Identity;
        if (!_models.TryGetValue(key, out var loaded))
        {
            loaded = await LoadAsync(version, cancellationToken);
            _models[key] = loaded;
        }

        var probabilities = loaded.Model.Predict(validation.Inputs);
        var splits = new List<SplitSlices> { SplitSlices.Measure(DatasetSplit.Validation, validation.Inputs, probabilities, loaded.Threshold) };
        if (test.HasBothOutcomes)
        {
            splits.Add(SplitSlices.Measure(DatasetSplit.Test, test.Inputs, loaded.Model.Predict(test.Inputs), loaded.Threshold));
        }

        return new ScoredVersion(version.Version, BinaryMetrics.AreaUnderRoc(probabilities, [.. validation.Inputs.Select(i => i.Label)]), splits);
    }

    /// <summary>A version's model and the threshold it decides at.</summary>
    private sealed record LoadedVersion(ReadmissionModel Model, double Threshold);
}

/// <summary>A version whose model cannot be had from the artifact store: missing, or under a root the trainer cannot read.</summary>
public sealed class ModelArtifactException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Nothing to promote yet, or nothing to judge with: a 409 with the reason.</summary>
public sealed class PromotionRefusedException(string message) : Exception(message);
