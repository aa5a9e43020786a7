using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Diabetes.Trainer.Training;

/// <summary>One point of the search: a trainer family with its hyper-parameters.</summary>
public sealed record Candidate(string Algorithm, IReadOnlyDictionary<string, string> Parameters, bool NeedsNormalization,
    Func<MLContext, IEstimator<ITransformer>> CreateTrainer)
{
    public string Name => $"{Algorithm}({string.Join(", ", Parameters.Select(p => $"{p.Key}={p.Value}"))})";
}

/// <summary>
/// The candidates of a training job: four trainer families with a small grid each. Every learner weighs examples by
/// the <c>Weight</c> column (class imbalance); linear learners get normalised features; random forests get a Platt
/// calibrator so that every model answers a probability.
/// </summary>
public static class Candidates
{
    private const string Label = nameof(Core.Modeling.ModelInput.Label);
    private const string Weight = nameof(ModelTrainer.FeaturizedRow.Weight);
    private const string Features = FeaturePipeline.FeaturesColumn;

    public static IReadOnlyList<Candidate> All { get; } =
    [
        // Slow learning over many rounds with half the features per tree ranked best in patient-grouped
        // cross-validation (bench/run.sh cv); fewer rounds or larger leaves fell behind.
        LightGbm(leaves: 31, learningRate: 0.01, iterations: 1500, minLeaf: 100),
        LightGbm(leaves: 31, learningRate: 0.01, iterations: 1500, minLeaf: 20),
        LightGbm(leaves: 15, learningRate: 0.01, iterations: 2000, minLeaf: 50),
        FastTree(leaves: 20, trees: 300, learningRate: 0.05, minLeaf: 100),
        FastTree(leaves: 31, trees: 300, learningRate: 0.03, minLeaf: 200),
        FastForest(trees: 200, leaves: 64, minLeaf: 100),
        LogisticRegression(l2: 1f, l1: 0f),
        LogisticRegression(l2: 30f, l1: 1f),
        Sdca(l2: 0.01f),
    ];

    private const double LightGbmFeatureFraction = 0.5;

    private static Candidate LightGbm(int leaves, double learningRate, int iterations, int minLeaf) => new(
        "LightGbm", Params(("num_leaves", leaves), ("learning_rate", learningRate), ("iterations", iterations), ("min_data_in_leaf", minLeaf),
            ("feature_fraction", LightGbmFeatureFraction)), false,
        ml => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
        {
            LabelColumnName = Label,
            FeatureColumnName = Features,
            ExampleWeightColumnName = Weight,
            NumberOfLeaves = leaves,
            LearningRate = learningRate,
            NumberOfIterations = iterations,
            MinimumExampleCountPerLeaf = minLeaf,
            // The one-hot slots are plain 0/1 features; LightGBM's own categorical splits misread them.
            UseCategoricalSplit = false,
            Booster = new GradientBooster.Options { FeatureFraction = LightGbmFeatureFraction, SubsampleFraction = 0.8, SubsampleFrequency = 1, L2Regularization = 10 },
            // One thread: a round on 70,000 rows is too small to share, and two threads waiting on each other at every
            // split took 7 to 25 s a fit on two busy cores, against a steady 10-15 s alone (the same model either way).
            NumberOfThreads = 1,
            Seed = 1,
            Verbose = false,
            Silent = true,
        }));

    private static Candidate FastTree(int leaves, int trees, double learningRate, int minLeaf) => new(
        "FastTree", Params(("num_leaves", leaves), ("num_trees", trees), ("learning_rate", learningRate), ("min_data_in_leaf", minLeaf)), false,
        ml => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            LabelColumnName = Label,
            FeatureColumnName = Features,
            ExampleWeightColumnName = Weight,
            NumberOfLeaves = leaves,
            NumberOfTrees = trees,
            LearningRate = learningRate,
            MinimumExampleCountPerLeaf = minLeaf,
            Seed = 1,
        }));

    private static Candidate FastForest(int trees, int leaves, int minLeaf) => new(
        "FastForest", Params(("num_trees", trees), ("num_leaves", leaves), ("min_data_in_leaf", minLeaf)), false,
        ml => ml.BinaryClassification.Trainers.FastForest(new FastForestBinaryTrainer.Options
            {
                LabelColumnName = Label,
                FeatureColumnName = Features,
                ExampleWeightColumnName = Weight,
                NumberOfTrees = trees,
                NumberOfLeaves = leaves,
                MinimumExampleCountPerLeaf = minLeaf,
                Seed = 1,
            })
            .Append(ml.BinaryClassification.Calibrators.Platt(labelColumnName: Label)));

    private static Candidate LogisticRegression(float l2, float l1) => new(
        "LbfgsLogisticRegression", Params(("l2", l2), ("l1", l1)), true,
        ml => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = Label,
            FeatureColumnName = Features,
            ExampleWeightColumnName = Weight,
            L2Regularization = l2,
            L1Regularization = l1,
        }));

    private static Candidate Sdca(float l2) => new(
        "SdcaLogisticRegression", Params(("l2", l2)), true,
        ml => ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = Label,
            FeatureColumnName = Features,
            ExampleWeightColumnName = Weight,
            L2Regularization = l2,
            MaximumNumberOfIterations = 50,
        }));

    private static IReadOnlyDictionary<string, string> Params(params (string Key, object Value)[] values) =>
        values.ToDictionary(v => v.Key, v => Convert.ToString(v.Value, CultureInfo.InvariantCulture)!);
}
