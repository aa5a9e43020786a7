using System.Text;
using Microsoft.ML;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Diabetes.Trainer;
using Diabetes.Trainer.Training;

namespace Diabetes.Testing.Models;

/// <summary>
/// Real models of the trainer's own pipeline, trained once per test run on the dataset's first encounters, and
/// published to an MLflow server as the trainer publishes them (a run with its model folder, a registered version).
/// </summary>
public static class TestModels
{
    private static readonly Lazy<IReadOnlyList<ModelInput>> Validation = new(() => TestEncounters.All.Skip(8_000).Take(2_000).Select(r => r.Input).ToArray());

    /// <summary>The trainer of every model here: its featurization is fitted once, on the first 8,000 encounters.</summary>
    private static readonly Lazy<ModelTrainer> Trainer = new(() => new ModelTrainer(TestEncounters.All.Take(8_000).Select(r => r.Input).ToList(), Validation.Value));

    /// <summary>
    /// The data of these models as a training job would read it, for their model cards: the train and validation rows
    /// above, and the encounters after them as the test split.
    /// </summary>
    private static readonly Lazy<TrainingSnapshot> Data = new(() => new TrainingSnapshot(
        Split(DatasetSplit.Train, [.. TestEncounters.All.Take(8_000).Select(r => r.Input)]),
        Split(DatasetSplit.Validation, Validation.Value),
        Split(DatasetSplit.Test, [.. TestEncounters.All.Skip(10_000).Select(r => r.Input)]),
        []));

    private static readonly Lazy<TrainedCandidate> LogisticModel = new(() => Train(c => c.Algorithm.Contains("Logistic", StringComparison.Ordinal)));
    private static readonly Lazy<TrainedCandidate> FastTreeModel = new(() => Train(c => c.Algorithm == "FastTree"));
    private static readonly Lazy<TrainedCandidate> LightGbmModel = new(() => Train(c => c.Algorithm == "LightGbm"));
    private static readonly Lazy<TrainedCandidate> FastForestModel = new(() => Train(c => c.Algorithm == "FastForest"));
    private static readonly Lazy<TrainedCandidate> LdSvmModel = new(() => Train(new Candidate("LdSvm", new Dictionary<string, string>(), true,
        ml => ml.BinaryClassification.Trainers.LdSvm(nameof(ModelInput.Label), FeaturePipeline.FeaturesColumn, nameof(ModelTrainer.FeaturizedRow.Weight))
            .Append(ml.BinaryClassification.Calibrators.Platt(nameof(ModelInput.Label))))));

    /// <summary>A logistic regression (version 1 in most tests).</summary>
    public static TrainedCandidate Logistic => LogisticModel.Value;

    /// <summary>A boosted tree model, which answers other probabilities than <see cref="Logistic"/>.</summary>
    public static TrainedCandidate FastTree => FastTreeModel.Value;

    /// <summary>The trainer's first LightGBM candidate (1,500 rounds), trained when first asked for.</summary>
    public static TrainedCandidate LightGbm => LightGbmModel.Value;

    /// <summary>The trainer's random forest, with its Platt calibrator after it, trained when first asked for.</summary>
    public static TrainedCandidate FastForest => FastForestModel.Value;

    /// <summary>A model whose learner (a locally deep SVM, calibrated) has no feature contribution calculation in ML.NET.</summary>
    public static TrainedCandidate WithoutContributions => LdSvmModel.Value;

    /// <summary>
    /// Publishes one of these models as the trainer would (see <see cref="ModelPublisher"/>); <paramref name="withPlots"/>
    /// adds the plots the trainer draws for a chosen model (on the validation rows here), <paramref name="withCard"/>
    /// what a job's chosen run carries besides: <c>slices.json</c>, <c>plots/slices_roc_auc.png</c> and
    /// <c>model_card.md</c>, from the model's own figures on these models' validation and test rows.
    /// </summary>
    public static Task<ModelVersion> PublishAsync(
        MlflowClient mlflow, TrainedCandidate model, bool promote = true, string? artifactRoot = null, Func<string, byte[], byte[]?>? tamper = null,
        bool withPlots = false, bool withCard = false) =>
        ModelPublisher.PublishAsync(mlflow, model, Trainer.Value.Features, new ModelLineage(["test"], [1], 8_000, 2_000, "digest"),
            promote, artifactRoot, tamper, withPlots || withCard ? async run =>
            {
                if (withPlots)
                {
                    await UploadPlotsAsync(mlflow, run, model);
                }

                if (withCard)
                {
                    await UploadCardAsync(mlflow, run, model);
                }
            } : null);

    /// <summary>The group figures and card of <paramref name="model"/> as the chosen and only candidate of a job over <see cref="Data"/>.</summary>
    private static async Task UploadCardAsync(MlflowClient mlflow, RunInfo run, TrainedCandidate model)
    {
        var data = Data.Value;
        var figures = ChosenModelFigures.Measure(model, data.Validation, data.Test);
        var card = ModelCard.Describe("test-models", run.RunId, model, figures, [CandidateSummary.Of(run.RunId, model)], data,
            Trainer.Value.PositiveWeight, new PromotionOptions().MaxGroupAucDrop, DateTimeOffset.UtcNow);
        foreach (var file in figures.GroupArtifacts(model.Candidate.Algorithm).Append(card.ToArtifact()))
        {
            await mlflow.UploadArtifactAsync(run, file.Path, file.Content, file.ContentType, CancellationToken.None);
        }
    }

    private static SplitData Split(DatasetSplit split, IReadOnlyList<ModelInput> inputs) => new(split, inputs, split == DatasetSplit.Train ? [1] : [], ["test"], "digest");

    private static async Task UploadPlotsAsync(MlflowClient mlflow, RunInfo run, TrainedCandidate model)
    {
        var validation = Validation.Value;
        var probabilities = model.Model.Predict(validation);
        var labels = validation.Select(v => v.Label).ToArray();
        var importance = new[] { new FeatureImportance("NumberInpatient", 0.03), new FeatureImportance("DischargeDisposition", 0.01) };
        var plots = new Dictionary<string, byte[]>
        {
            ["roc_curve"] = Plots.Roc(probabilities, labels, "ROC curve"),
            ["precision_recall_curve"] = Plots.PrecisionRecall(probabilities, labels, "Precision-recall"),
            ["confusion_matrix"] = Plots.Confusion(model.Validation.Confusion, model.Validation.Threshold, "Confusion matrix"),
            ["feature_importance"] = Plots.FeatureImportance(importance, "Feature importance"),
        };
        foreach (var (name, png) in plots)
        {
            await mlflow.UploadArtifactAsync(run, $"plots/{name}.png", png, "image/png", CancellationToken.None);
        }
    }

    /// <summary>A model folder without its model: what an upload cut short before its last file leaves.</summary>
    public static byte[]? WithoutModel(string path, byte[] content) => path.EndsWith(ModelArtifacts.ModelFile, StringComparison.Ordinal) ? null : content;

    /// <summary>The folder of a version trained before reference profiles: no <c>reference_profile.json</c>.</summary>
    public static byte[]? WithoutReferenceProfile(string path, byte[] content) =>
        path.EndsWith(ReferenceProfile.FileName, StringComparison.Ordinal) ? null : content;

    /// <summary>Bytes that are not a model: what a truncated upload leaves.</summary>
    public static byte[] Corrupt(string path, byte[] content) =>
        path.EndsWith(ModelArtifacts.ModelFile, StringComparison.Ordinal) ? Encoding.UTF8.GetBytes("not a zip") : content;

    private static TrainedCandidate Train(Func<Candidate, bool> candidate) => Train(Candidates.All.First(candidate));

    /// <summary>One model at a time: the trainer shares its featurized rows between candidates, as in a training job.</summary>
    private static TrainedCandidate Train(Candidate candidate)
    {
        lock (Trainer)
        {
            return Trainer.Value.Train(candidate);
        }
    }
}
