using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Core.Modeling;

/// <summary>
/// Scores one encounter at a time, for serving; not safe to share between threads (pool it). It runs the model's two
/// stages with a dense feature vector between them (see <see cref="ModelStages"/>); the probability is the model's own.
/// </summary>
public sealed class ReadmissionScorer
{
    private readonly PredictionEngine<ModelInput, FeatureVector>? _featurizer;
    private readonly PredictionEngine<FeatureVector, ModelOutput>? _learner;
    private readonly PredictionEngine<ModelInput, ModelOutput>? _whole;
    private FeatureVector _features = new();
    private ModelOutput _output = new();

    internal ReadmissionScorer(MLContext ml, ITransformer model, ModelStages? stages, DataViewSchema inputSchema)
    {
        if (stages is not null)
        {
            _featurizer = ml.Model.CreatePredictionEngine<ModelInput, FeatureVector>(stages.Featurizer, new PredictionEngineOptions { OutputSchemaDefinition = stages.DenseFeatures });
            _learner = ml.Model.CreatePredictionEngine<FeatureVector, ModelOutput>(stages.Learner, new PredictionEngineOptions { InputSchemaDefinition = stages.DenseFeatures });
        }
        else
        {
            // Not the trainer's featurization-then-learner chain: scored in one step.
            _whole = ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model, inputSchema);
        }
    }

    /// <summary>The probability of readmission within 30 days.</summary>
    public float Predict(ModelInput input)
    {
        if (_whole is not null)
        {
            _whole.Predict(input, ref _output);
            return _output.Probability;
        }

        _featurizer!.Predict(input, ref _features);
        _learner!.Predict(_features, ref _output);
        return _output.Probability;
    }
}

/// <summary>A featurized encounter as a dense vector (the learner's input); public because ML.NET binds its members.</summary>
public sealed class FeatureVector
{
    public float[] Features { get; set; } = [];
}
