using System.Diagnostics;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Trainer.Training;

/// <summary>
/// A candidate fitted on the training rows and judged on validation (its metrics, and its ROC-AUC's 95 % interval,
/// which says how far apart two candidates must be to differ), with the reference its requests will be compared with
/// (the training split's inputs, its probabilities on validation), and those probabilities, for whatever else judges
/// the chosen model on validation without scoring it again.
/// </summary>
public sealed record TrainedCandidate(
    Candidate Candidate, ReadmissionModel Model, BinaryMetrics Validation, RocAucInterval ValidationRocAuc, TimeSpan TrainTime,
    ReferenceProfile Reference, IReadOnlyList<float> ValidationProbabilities)
{
    /// <summary>The learner's fit in seconds, to the millisecond, as logged (<c>train_seconds</c>).</summary>
    public double TrainSeconds => Math.Round(TrainTime.TotalSeconds, 3);
}

/// <summary>
/// Fits candidates. The featurization is fitted once and its output kept in memory for every candidate, which fits
/// only its learner on it; each saved model is the featurization followed by the learner, so it carries both.
/// </summary>
public sealed class ModelTrainer
{
    private readonly MLContext _ml = new(seed: 1);
    private readonly DataViewSchema _inputSchema;
    private readonly FeaturePipeline _features;
    private readonly TransformerChain<ITransformer> _featurizer;
    private readonly IDataView _featurizedTraining;
    private readonly IReadOnlyList<ModelInput> _validation;
    private readonly bool[] _validationLabels;
    private readonly IReadOnlyList<InputProfile> _trainingProfile;

    /// <param name="training">Training rows; their featurized copies are weighed by class (see <see cref="PositiveWeight"/>).</param>
    public ModelTrainer(IReadOnlyList<ModelInput> training, IReadOnlyList<ModelInput> validation)
    {
        PositiveWeight = ClassWeight(training);
        var trainingView = _ml.Data.LoadFromEnumerable(training);
        _inputSchema = trainingView.Schema;
        _features = FeaturePipeline.Fit(training);
        _featurizer = _features.Build(_ml).Fit(trainingView);
        _featurizedTraining = InMemory(_featurizer.Transform(trainingView));
        _validation = validation;
        _validationLabels = validation.Select(r => r.Label).ToArray();
        _trainingProfile = ReferenceProfile.ProfileInputs(training);
    }

    /// <summary>
    /// The weight of a readmitted encounter: the square root of negatives per positive (about 2.8 here). It makes the
    /// learners attend to the rare class while keeping probabilities near calibrated; full balancing (about 7.8) gave
    /// no better ranking on validation.
    /// </summary>
    public double PositiveWeight { get; }

    public FeaturePipeline Features => _features;

    public TrainedCandidate Train(Candidate candidate)
    {
        var stopwatch = Stopwatch.StartNew();
        // A context of its own, seeded alike: ML.NET draws each learner's sampling seed from its context, so a shared
        // one would make a candidate's model depend on which candidates were fitted before it.
        var ml = new MLContext(seed: 1);
        var learner = new EstimatorChain<ITransformer>();
        if (candidate.NeedsNormalization)
        {
            learner = learner.Append<ITransformer>(ml.Transforms.NormalizeMeanVariance(FeaturePipeline.FeaturesColumn));
        }

        var fitted = learner.Append(candidate.CreateTrainer(ml)).Fit(_featurizedTraining);
        var model = new ReadmissionModel(_ml, new TransformerChain<ITransformer>([.. _featurizer, .. fitted]), _inputSchema);
        var trainTime = stopwatch.Elapsed;
        var outputs = model.PredictWithScores(_validation);
        var probabilities = outputs.Select(o => o.Probability).ToArray();
        var threshold = BinaryMetrics.BestF1Threshold(probabilities, _validationLabels);
        return new TrainedCandidate(candidate, model, BinaryMetrics.Compute(probabilities, _validationLabels, threshold),
            BinaryMetrics.RocAucWithInterval(probabilities, _validationLabels), trainTime,
            ReferenceProfile.Create(_trainingProfile, probabilities, threshold) with { Baseline = ScoreBaseline.Of(outputs) }, probabilities);
    }

    /// <summary>
    /// The columns the learners read, copied into memory row by row as the featurization wrote them, each row weighed by
    /// its class. The boosted trees read them once and the linear learners at every pass; none of them featurizes
    /// again. Streamed in the rows' order, like the rows themselves, so every learner sees its data as when it
    /// featurized them itself.
    /// </summary>
    private IDataView InMemory(IDataView featurized)
    {
        var featureColumn = featurized.Schema[FeaturePipeline.FeaturesColumn];
        var labelColumn = featurized.Schema[nameof(ModelInput.Label)];
        using var cursor = featurized.GetRowCursor([featureColumn, labelColumn]);
        var features = cursor.GetGetter<VBuffer<float>>(featureColumn);
        var label = cursor.GetGetter<bool>(labelColumn);
        var rows = new List<FeaturizedRow>();
        while (cursor.MoveNext())
        {
            var row = new FeaturizedRow();
            features(ref row.Features);
            label(ref row.Label);
            row.Weight = row.Label ? (float)PositiveWeight : 1f;
            rows.Add(row);
        }

        var definition = SchemaDefinition.Create(typeof(FeaturizedRow));
        definition[nameof(FeaturizedRow.Features)].ColumnType = featureColumn.Type;
        return _ml.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>One featurized training row; public fields because ML.NET binds them.</summary>
    public sealed class FeaturizedRow
    {
        public VBuffer<float> Features;
        public bool Label;
        public float Weight;
    }

    /// <summary>The weight of a readmitted training row (<see cref="PositiveWeight"/>) for these rows.</summary>
    private static double ClassWeight(IReadOnlyList<ModelInput> training)
    {
        var positives = training.Count(r => r.Label);
        return positives == 0 ? 1 : Math.Sqrt((double)(training.Count - positives) / positives);
    }
}
