using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Core.Modeling;

/// <summary>
/// A trained model (featurization included) as it is saved in <c>model.zip</c>: loads from those bytes and answers
/// the probability of readmission within 30 days for cleaned encounters.
/// </summary>
public sealed class ReadmissionModel
{
    public const string ProbabilityColumn = nameof(ModelOutput.Probability);

    private readonly Lazy<(ContributionStage? Stage, ExplanationProblem? Problem)> _contributions;

    public ReadmissionModel(MLContext ml, ITransformer transformer, DataViewSchema inputSchema)
    {
        Ml = ml;
        Transformer = transformer;
        InputSchema = inputSchema;
        Stages = ModelStages.Of(transformer, inputSchema);
        _contributions = new(() => ContributionStage.Of(ml, Stages, inputSchema));
    }

    public ITransformer Transformer { get; }

    public DataViewSchema InputSchema { get; }

    /// <summary>
    /// Why this model's predictions cannot be explained (see <see cref="ReadmissionScorer.Explain"/>), or null when they
    /// can. The first call builds what explaining needs; serving calls it when it loads the model.
    /// </summary>
    public ExplanationProblem? ExplanationProblem => _contributions.Value.Problem;

    /// <summary>The reason of <see cref="ExplanationProblem"/>; null when the predictions can be explained.</summary>
    public string? ExplanationUnavailable => ExplanationProblem?.Reason;

    /// <summary>The request fields the slots of the feature vector come from; null when <see cref="ExplanationUnavailable"/>.</summary>
    internal FieldAttribution? Fields => _contributions.Value.Stage?.Fields;

    internal MLContext Ml { get; }

    internal ModelStages? Stages { get; }

    internal ContributionStage? Contributions => _contributions.Value.Stage;

    public static ReadmissionModel Load(byte[] zip)
    {
        var ml = new MLContext(seed: 1);
        using var stream = new MemoryStream(zip, writable: false);
        var transformer = ml.Model.Load(stream, out var schema);
        return new ReadmissionModel(ml, transformer, schema);
    }

    /// <summary>
    /// Probabilities in the order of <paramref name="rows"/>, in two stages with dense features between them (see
    /// <see cref="ModelStages"/>). Safe to call from several threads.
    /// </summary>
    public float[] Predict(IEnumerable<ModelInput> rows) => Scored(rows).GetColumn<float>(ProbabilityColumn).ToArray();

    /// <summary>Like <see cref="Predict"/>, with the learner's raw score (before calibration) beside each probability.</summary>
    public ModelOutput[] PredictWithScores(IEnumerable<ModelInput> rows) => Ml.Data.CreateEnumerable<ModelOutput>(Scored(rows), reuseRowObject: false).ToArray();

    private IDataView Scored(IEnumerable<ModelInput> rows)
    {
        var input = Ml.Data.LoadFromEnumerable(rows);
        if (Stages is null)
        {
            return Transformer.Transform(input);
        }

        var features = Ml.Data.LoadFromEnumerable(Stages.Dense(Stages.Featurizer.Transform(input)), Stages.DenseFeatures);
        return Stages.Learner.Transform(features);
    }

    /// <summary>A single-row scorer: fast, but not safe to share between threads (pool it).</summary>
    public ReadmissionScorer CreateScorer() => new(this);

    public byte[] ToZip()
    {
        using var stream = new MemoryStream();
        Ml.Model.Save(Transformer, InputSchema, stream);
        return stream.ToArray();
    }
}
