using Diabetes.Core.Modeling;

namespace Diabetes.Trainer.Training;

/// <summary>One input column's importance: how much the ROC AUC drops when its values are shuffled.</summary>
public sealed record FeatureImportance(string Feature, double RocAucDrop);

/// <summary>
/// Permutation feature importance over the model's input columns (not the one-hot slots, which would be hundreds of
/// meaningless names): each column's values are shuffled across the rows and the loss of ROC AUC is measured.
/// </summary>
public static class PermutationImportance
{
    public const int MaxRows = 5_000;

    public static IReadOnlyList<FeatureImportance> Compute(ReadmissionModel model, IReadOnlyList<ModelInput> rows, int seed = 1)
    {
        var random = new Random(seed);
        var sample = rows.Count <= MaxRows ? rows : rows.OrderBy(_ => random.Next()).Take(MaxRows).ToArray();
        var labels = sample.Select(r => r.Label).ToArray();
        var baseline = BinaryMetrics.AreaUnderRoc(model.Predict(sample), labels);
        var importances = new List<FeatureImportance>();
        foreach (var column in FeaturePipeline.InputColumns)
        {
            var property = typeof(ModelInput).GetProperty(column)!;
            var shuffled = sample.Select(r => property.GetValue(r)).OrderBy(_ => random.Next()).ToArray();
            var permuted = sample.Select((row, i) =>
            {
                var copy = row.Copy();
                property.SetValue(copy, shuffled[i]);
                return copy;
            }).ToArray();
            importances.Add(new FeatureImportance(column, baseline - BinaryMetrics.AreaUnderRoc(model.Predict(permuted), labels)));
        }

        return importances.OrderByDescending(i => i.RocAucDrop).ToArray();
    }
}
