using Diabetes.Core.Modeling;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Trainer.FunctionalTests;

/// <summary>
/// Batch predictions run a model in two stages with dense features between them; they must answer what the whole
/// model answers, for every family, before and after the model is saved.
/// </summary>
public class ModelPredictionTests
{
    private static readonly Lazy<ModelTrainer> Trainer = new(() => new ModelTrainer(
        TestEncounters.All.Take(4_000).Select(r => r.Input).ToList(),
        TestEncounters.All.Skip(4_000).Take(1_000).Select(r => r.Input).ToList()));

    [Theory]
    [InlineData("LbfgsLogisticRegression")] // normalisation, then a linear learner
    [InlineData("FastTree")]
    [InlineData("FastForest")] // a learner followed by its calibrator: run whole
    public void BatchPredictionsAreTheWholeModelsProbabilities(string algorithm)
    {
        // Arrange
        var trained = Trainer.Value.Train(Candidates.All.First(c => c.Algorithm == algorithm));
        var rows = TestEncounters.All.Skip(5_000).Take(500).Select(r => r.Input).ToArray();
        var whole = trained.Model.Transformer.Transform(new MLContext(seed: 1).Data.LoadFromEnumerable(rows))
            .GetColumn<float>(ReadmissionModel.ProbabilityColumn).ToArray();

        // Act
        var predicted = trained.Model.Predict(rows);
        var reloaded = ReadmissionModel.Load(trained.Model.ToZip()).Predict(rows);

        // Assert: the same to float precision (a dense dot product adds in another order than a sparse one)
        Assert.Equal(rows.Length, predicted.Length);
        Assert.Contains(whole, p => p != whole[0]);
        Assert.All(Enumerable.Range(0, rows.Length), i =>
        {
            Assert.Equal(whole[i], predicted[i], 1e-5);
            Assert.Equal(predicted[i], reloaded[i], 1e-6);
        });
    }
}
