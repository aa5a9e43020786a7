using Diabetes.Core.Cleaning;
using Diabetes.Core.Modeling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Core.UnitTests;

/// <summary>
/// A model is split into featurization and learner only where the learner reads a float vector, whatever that
/// column is called; any other model is run whole. Either way a batch answers the whole model's probabilities.
/// </summary>
public class ModelStagesTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly string[] NoMedications = [.. EncounterCleaner.CountedMedications.Select(_ => "No")];

    private static readonly ModelInput[] Rows = Encounters(600);
    private static readonly IDataView Training = Ml.Data.LoadFromEnumerable(Rows);

    [Fact]
    public void ALearnerReadingAVectorOfAnyNameIsRunInStages()
    {
        // Arrange: the features in a column not called "Features"
        var estimator = new EstimatorChain<ITransformer>()
            .Append<ITransformer>(Ml.Transforms.Concatenate("Vector", ModelInput.NumericColumns))
            .Append<ITransformer>(Ml.BinaryClassification.Trainers.FastTree(nameof(ModelInput.Label), "Vector", numberOfTrees: 20));
        var model = new ReadmissionModel(Ml, estimator.Fit(Training), Training.Schema);

        // Act
        var stages = ModelStages.Of(model.Transformer, model.InputSchema);
        var predicted = model.Predict(Rows);

        // Assert
        Assert.Equal("Vector", stages?.FeatureColumn);
        Assert.Equal(WholeModel(model), predicted, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void ALearnerInAChainOfItsOwnWithItsCalibratorIsRunInStages()
    {
        // Arrange: as the trainer fits its random forests, the learner then its calibrator, in a chain of their own
        var estimator = new EstimatorChain<ITransformer>()
            .Append<ITransformer>(Ml.Transforms.Concatenate("Features", ModelInput.NumericColumns))
            .Append<ITransformer>(Ml.BinaryClassification.Trainers.FastForest(nameof(ModelInput.Label), "Features", numberOfTrees: 20)
                .Append(Ml.BinaryClassification.Calibrators.Platt(nameof(ModelInput.Label))));
        var model = new ReadmissionModel(Ml, estimator.Fit(Training), Training.Schema);

        // Act
        var stages = ModelStages.Of(model.Transformer, model.InputSchema);
        var predicted = model.Predict(Rows);
        var scorer = model.CreateScorer();

        // Assert: the same probabilities, one by one too, and explained
        Assert.Equal("Features", stages?.FeatureColumn);
        Assert.Equal(WholeModel(model), predicted, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(predicted.Take(50), Rows.Take(50).Select(scorer.Predict));
        Assert.Null(model.ExplanationUnavailable);
        Assert.Equal(predicted[0], scorer.Explain(Rows[0])!.Probability);
    }

    [Fact]
    public void ALearnerWithoutFeatureContributionsSaysSo()
    {
        // Arrange: a locally deep SVM, calibrated
        var estimator = new EstimatorChain<ITransformer>()
            .Append<ITransformer>(Ml.Transforms.Concatenate("Features", ModelInput.NumericColumns))
            .Append<ITransformer>(Ml.BinaryClassification.Trainers.LdSvm(nameof(ModelInput.Label), "Features", numberOfIterations: 100)
                .Append(Ml.BinaryClassification.Calibrators.Platt(nameof(ModelInput.Label))));
        var model = new ReadmissionModel(Ml, estimator.Fit(Training), Training.Schema);

        // Act
        var scorer = model.CreateScorer();

        // Assert
        Assert.Contains("no feature contribution calculation for LdSvmModelParameters", model.ExplanationUnavailable);
        Assert.Null(scorer.Explain(Rows[0]));
        Assert.InRange(scorer.Predict(Rows[0]), 0, 1);
    }

    [Fact]
    public void AChainEndingInACalibratorIsRunWhole()
    {
        // Arrange: learner and calibrator side by side in one flat chain; the calibrator reads the scalar score
        var estimator = new EstimatorChain<ITransformer>()
            .Append<ITransformer>(Ml.Transforms.Concatenate("Features", ModelInput.NumericColumns))
            .Append<ITransformer>(Ml.BinaryClassification.Trainers.SdcaNonCalibrated(nameof(ModelInput.Label), "Features", maximumNumberOfIterations: 5))
            .Append<ITransformer>(Ml.BinaryClassification.Calibrators.Platt(nameof(ModelInput.Label)));
        var model = new ReadmissionModel(Ml, estimator.Fit(Training), Training.Schema);

        // Act
        var stages = ModelStages.Of(model.Transformer, model.InputSchema);
        var predicted = model.Predict(Rows);

        // Assert: and cannot be explained, for want of the feature vector between the stages
        Assert.Null(stages);
        Assert.Equal(WholeModel(model), predicted);
        Assert.StartsWith("the model is not a featurization followed by a learner", model.ExplanationUnavailable);
    }

    private static float[] WholeModel(ReadmissionModel model) =>
        model.Transformer.Transform(Ml.Data.LoadFromEnumerable(Rows)).GetColumn<float>(ReadmissionModel.ProbabilityColumn).ToArray();

    /// <summary>Encounters whose chance of readmission grows with their inpatient visits.</summary>
    private static ModelInput[] Encounters(int count)
    {
        var random = new Random(7);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var inpatient = random.Next(0, 6);
            return new ModelInput
            {
                AgeYears = random.Next(20, 90),
                TimeInHospital = random.Next(1, 14),
                NumberInpatient = inpatient,
                NumMedications = random.Next(1, 40),
                Label = random.NextDouble() < 0.1 + 0.1 * inpatient,
                // No medication taken, as ActiveMedications (0) says: what an explanation shares that count by.
                CountedMedications = NoMedications,
            };
        }).ToArray();
    }
}
