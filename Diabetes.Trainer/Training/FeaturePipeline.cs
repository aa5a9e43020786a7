using Diabetes.Core.Modeling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Trainer.Training;

/// <summary>
/// The featurization every candidate shares, saved inside each model so that serving needs nothing else:
/// rare categories capped, one-hot encoding, the numbers as they are (<see cref="ModelTrainer"/> puts a
/// normalisation before the linear learners).
/// </summary>
public sealed class FeaturePipeline
{
    public const string FeaturesColumn = "Features";

    /// <summary>A category seen fewer times than this in the training rows is folded into "unseen" (all zeros).</summary>
    public const int MinimumCategoryCount = 30;

    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _keptCategories;

    private FeaturePipeline(IReadOnlyDictionary<string, IReadOnlyList<string>> keptCategories) => _keptCategories = keptCategories;

    /// <summary>For each categorical column, the values frequent enough in training to get a column of their own.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> KeptCategories => _keptCategories;

    public static FeaturePipeline Fit(IReadOnlyList<ModelInput> training)
    {
        var kept = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var column in ModelInput.CategoricalColumns)
        {
            var property = typeof(ModelInput).GetProperty(column)!;
            kept[column] = training
                .GroupBy(row => (string)property.GetValue(row)!, StringComparer.Ordinal)
                .Where(g => g.Count() >= MinimumCategoryCount)
                .Select(g => g.Key)
                .Order(StringComparer.Ordinal)
                .ToArray();
        }

        return new FeaturePipeline(kept);
    }

    /// <summary>The estimator from <see cref="ModelInput"/> to the <c>Features</c> vector.</summary>
    public EstimatorChain<ITransformer> Build(MLContext ml)
    {
        var pipeline = new EstimatorChain<ITransformer>();
        foreach (var column in ModelInput.CategoricalColumns)
        {
            // Values not in the map come out empty, which one-hot encodes as all zeros: rare and unseen alike.
            var map = _keptCategories[column].Select(v => new KeyValuePair<string, string>(v, v));
            pipeline = pipeline.Append<ITransformer>(ml.Transforms.Conversion.MapValue($"{column}Capped", map, column));
        }

        var encoded = ModelInput.CategoricalColumns.Select(c => new InputOutputColumnPair($"{c}{ModelInput.OneHotSuffix}", $"{c}Capped"))
            .Append(new InputOutputColumnPair($"{nameof(ModelInput.Medications)}{ModelInput.OneHotSuffix}", nameof(ModelInput.Medications)))
            .ToArray();
        return pipeline
            .Append<ITransformer>(ml.Transforms.Categorical.OneHotEncoding(encoded))
            .Append<ITransformer>(ml.Transforms.Concatenate(FeaturesColumn, [.. encoded.Select(e => e.OutputColumnName), .. ModelInput.NumericColumns]));
    }

    /// <summary>The names of the model's inputs, for the model's metadata.</summary>
    public static IReadOnlyList<string> InputColumns =>
        [.. ModelInput.CategoricalColumns, nameof(ModelInput.Medications), .. ModelInput.NumericColumns];
}
