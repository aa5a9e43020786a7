using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Microsoft.ML.Transforms;

namespace Diabetes.Core.Modeling;

/// <summary>
/// What explaining a prediction needs, built once per model: ML.NET's feature contribution calculation on the learner,
/// over the dense feature vector the scorer makes anyway (<see cref="ModelStages"/>), and the request field each slot
/// of that vector comes from. Contributions are raw (not normalized), in the learner's score units: for a linear
/// learner weight × feature value; for trees, at each split on the encounter's path, the change in score had the
/// encounter gone the other way.
/// </summary>
internal sealed class ContributionStage
{
    private ContributionStage(ITransformer calculator, FieldAttribution fields)
    {
        Calculator = calculator;
        Fields = fields;
    }

    /// <summary>Reads the dense feature vector, writes <see cref="ContributionVector.FeatureContributions"/>.</summary>
    public ITransformer Calculator { get; }

    public FieldAttribution Fields { get; }

    /// <summary>
    /// The stage for a model run in <paramref name="stages"/>, or why its predictions cannot be explained. It never
    /// throws for the model's sake: a model that cannot be explained still predicts.
    /// </summary>
    public static (ContributionStage? Stage, ExplanationProblem? Problem) Of(MLContext ml, ModelStages? stages, DataViewSchema inputSchema)
    {
        if (stages is null)
        {
            return (null, new("the model is not a featurization followed by a learner on a vector of known size, so it is scored whole"));
        }

        // ModelStages.Of found this column a float vector of known size: reading its schema again cannot fail.
        var features = stages.Featurizer.GetOutputSchema(inputSchema)[stages.FeatureColumn];
        var size = ((VectorDataViewType)features.Type).Size;
        if (!features.HasSlotNames())
        {
            return (null, new($"the feature vector '{stages.FeatureColumn}' does not name its slots, so they cannot be traced back to request fields"));
        }

        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        features.GetSlotNames(ref slotNames);
        FieldAttribution fields;
        try
        {
            fields = FieldAttribution.Create([.. slotNames.DenseValues().Select(name => name.ToString())]);
        }
        catch (ArgumentException exception)
        {
            // Our own message: it names the slot no request field accounts for.
            return (null, new(exception.Message));
        }

        if (Calculation(ml, stages.Predictor, size) is not { } calculation)
        {
            return (null, new($"ML.NET has no feature contribution calculation for {LearnerName(stages.Predictor.Model)}"));
        }

        try
        {
            var stage = new ContributionStage(calculation.Fit(ml.Data.LoadFromEnumerable(Array.Empty<FeatureVector>(), stages.DenseFeatures)), fields);
            // The calculation is bound to the learner when a row is first read: one row now, so that a learner it
            // refuses is found at load and not by a request.
            stage.CreateEngine(ml, stages).Predict(new FeatureVector { Features = new float[size] });
            return (stage, null);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Whatever ML.NET throws here, the model still predicts: it is served without explanations.
            return (null, new($"ML.NET cannot calculate the contributions of {LearnerName(stages.Predictor.Model)}", exception));
        }
    }

    /// <summary>A single-row calculator, like the scorer's engines: not safe to share between threads.</summary>
    public PredictionEngine<FeatureVector, ContributionVector> CreateEngine(MLContext ml, ModelStages stages) =>
        ml.Model.CreatePredictionEngine<FeatureVector, ContributionVector>(Calculator, new PredictionEngineOptions { InputSchemaDefinition = stages.DenseFeatures });

    /// <summary>
    /// The calculation for every learner family the trainer chooses from: the random forest is uncalibrated (its
    /// calibrator is a transformer of its own), the others carry a Platt calibrator whose sub-model is explained.
    /// Every contribution is kept (as many positive and negative ones as there are slots), unnormalized.
    /// </summary>
    private static FeatureContributionCalculatingEstimator? Calculation(MLContext ml, ISingleFeaturePredictionTransformer<object> predictor, int slots) =>
        predictor is ISingleFeaturePredictionTransformer<ICalculateFeatureContribution> uncalibrated
            ? ml.Transforms.CalculateFeatureContribution(uncalibrated, slots, slots, normalize: false)
            : Calibrated<LightGbmBinaryModelParameters>(ml, predictor, slots)
              ?? Calibrated<FastTreeBinaryModelParameters>(ml, predictor, slots)
              ?? Calibrated<LinearBinaryModelParameters>(ml, predictor, slots);

    private static FeatureContributionCalculatingEstimator? Calibrated<TLearner>(MLContext ml, ISingleFeaturePredictionTransformer<object> predictor, int slots)
        where TLearner : class, ICalculateFeatureContribution =>
        predictor is ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<TLearner, PlattCalibrator>> calibrated
            ? ml.Transforms.CalculateFeatureContribution(calibrated, slots, slots, normalize: false)
            : null;

    private static string LearnerName(object model) => model is CalibratedModelParametersBase calibrated
        ? $"{calibrated.SubModel.GetType().Name} calibrated by {calibrated.Calibrator.GetType().Name}"
        : model.GetType().Name;
}

/// <summary>
/// Why a model's predictions cannot be explained: a short reason, fit for an answer and the clinicians' page, and the
/// exception behind it, if one was thrown, for the log.
/// </summary>
public sealed record ExplanationProblem(string Reason, Exception? Exception = null);

/// <summary>The contribution of each slot of a feature vector to the learner's score; public because ML.NET binds its members.</summary>
public sealed class ContributionVector
{
    public float[] FeatureContributions { get; set; } = [];
}
