using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;

namespace Diabetes.Trainer.Training;

/// <summary>
/// How a model did on one split at its decision threshold: its metrics (as logged), its ROC-AUC with DeLong's interval
/// and standard error, and its mean probability, which set beside the split's share readmitted says how calibrated it is.
/// </summary>
public sealed record SplitFigures(DatasetSplit Split, BinaryMetrics Metrics, RocAucInterval RocAuc, double MeanProbability)
{
    public static SplitFigures Measure(DatasetSplit split, IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, double threshold) =>
        new(split, BinaryMetrics.Compute(probabilities, labels, threshold), BinaryMetrics.RocAucWithInterval(probabilities, labels), probabilities.Average());

    /// <summary>The split's share of readmitted encounters.</summary>
    public double ObservedRate => (double)Metrics.Positives / Metrics.Count;
}

/// <summary>
/// What a job measures of its chosen model once it is chosen: the test set, used once (none without a usable one: both
/// outcomes must occur in it), its figures per patient group on validation and test, and the permutation importance
/// of its inputs on validation. The validation figures are those it was chosen by; nothing is scored twice.
/// </summary>
public sealed record ChosenModelFigures(
    SplitFigures Validation, SplitFigures? Test, IReadOnlyList<float>? TestProbabilities, ModelSlices Slices,
    IReadOnlyList<FeatureImportance> Importance, int ImportanceRows)
{
    public static ChosenModelFigures Measure(TrainedCandidate chosen, SplitData validation, SplitData test)
    {
        var threshold = chosen.Validation.Threshold;
        var validationFigures = new SplitFigures(DatasetSplit.Validation, chosen.Validation, chosen.ValidationRocAuc, chosen.ValidationProbabilities.Average());
        var slices = new List<SplitSlices> { SplitSlices.Measure(DatasetSplit.Validation, validation.Inputs, chosen.ValidationProbabilities, threshold) };
        SplitFigures? testFigures = null;
        float[]? testProbabilities = null;
        if (test.HasBothOutcomes)
        {
            testProbabilities = chosen.Model.Predict(test.Inputs);
            testFigures = SplitFigures.Measure(DatasetSplit.Test, testProbabilities, [.. test.Inputs.Select(t => t.Label)], threshold);
            slices.Add(SplitSlices.Measure(DatasetSplit.Test, test.Inputs, testProbabilities, threshold));
        }

        return new ChosenModelFigures(validationFigures, testFigures, testProbabilities,
            new ModelSlices(threshold, PatientGroups.MinimumPerClass, slices),
            PermutationImportance.Compute(chosen.Model, validation.Inputs), Math.Min(validation.Count, PermutationImportance.MaxRows));
    }

    /// <summary>The figures per patient group as the run keeps them: <c>slices.json</c> and its plot.</summary>
    public IReadOnlyList<ArtifactFile> GroupArtifacts(string algorithm) =>
    [
        new(ModelSlices.FileName, Slices.ToJson(), "application/json"),
        new("plots/slices_roc_auc.png", Plots.GroupRocAuc(Slices.Splits, $"ROC AUC per patient group - {algorithm}"), "image/png"),
    ];
}
