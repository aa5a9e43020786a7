using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Core.Modeling;

/// <summary>
/// Scores one encounter at a time, for serving; not safe to share between threads (pool it). It runs the model's two
/// stages with a dense feature vector between them (see <see cref="ModelStages"/>); the probability is the model's own.
/// </summary>
public sealed class ReadmissionScorer
{
    private readonly ReadmissionModel _model;
    private readonly PredictionEngine<ModelInput, FeatureVector>? _featurizer;
    private readonly PredictionEngine<FeatureVector, ModelOutput>? _learner;
    private readonly PredictionEngine<ModelInput, ModelOutput>? _whole;
    private PredictionEngine<FeatureVector, ContributionVector>? _contributions;
    private FeatureVector _features = new();
    private ModelOutput _output = new();
    private ContributionVector _slotContributions = new();

    internal ReadmissionScorer(ReadmissionModel model)
    {
        _model = model;
        var ml = model.Ml;
        if (model.Stages is { } stages)
        {
            _featurizer = ml.Model.CreatePredictionEngine<ModelInput, FeatureVector>(stages.Featurizer, new PredictionEngineOptions { OutputSchemaDefinition = stages.DenseFeatures });
            _learner = ml.Model.CreatePredictionEngine<FeatureVector, ModelOutput>(stages.Learner, new PredictionEngineOptions { InputSchemaDefinition = stages.DenseFeatures });
        }
        else
        {
            // Not the trainer's featurization-then-learner chain: scored in one step.
            _whole = ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model.Transformer, model.InputSchema);
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

    /// <summary>
    /// The probability, as <see cref="Predict"/> answers it, with why: the learner's raw score and each request field's
    /// contribution to it, computed on the same feature vector; null when the model cannot be explained
    /// (<see cref="ReadmissionModel.ExplanationUnavailable"/>).
    /// </summary>
    public ExplainedPrediction? Explain(ModelInput input)
    {
        if (_model.Contributions is not { } stage)
        {
            return null;
        }

        var probability = Predict(input);
        // Built on a scorer's first explanation, so that plain predictions never pay for it.
        _contributions ??= stage.CreateEngine(_model.Ml, _model.Stages!);
        _contributions.Predict(_features, ref _slotContributions);
        var byField = stage.Fields.Sum(_slotContributions.FeatureContributions, input);
        var contributions = byField
            .Select((contribution, field) => new FieldContribution(stage.Fields.Fields[field], contribution))
            .Where(c => c.Contribution != 0)
            .OrderByDescending(c => Math.Abs(c.Contribution))
            .ThenBy(c => c.Field, StringComparer.Ordinal)
            .ToArray();
        return new ExplainedPrediction(probability, _output.Score, contributions);
    }
}

/// <summary>A featurized encounter as a dense vector (the learner's input); public because ML.NET binds its members.</summary>
public sealed class FeatureVector
{
    public float[] Features { get; set; } = [];
}

/// <summary>
/// A prediction and why: the probability, the learner's raw score it was calibrated from, and each request field's
/// contribution to that score (raw, in the score's units), largest first by size, fields that contributed nothing left out.
/// </summary>
public sealed record ExplainedPrediction(float Probability, float Score, IReadOnlyList<FieldContribution> Contributions);

/// <summary>What one request field (the dataset's column name) contributed to a learner's score.</summary>
public sealed record FieldContribution(string Field, double Contribution);
