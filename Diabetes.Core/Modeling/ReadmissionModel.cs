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

    private readonly MLContext _ml;
    private readonly ModelStages? _stages;

    public ReadmissionModel(MLContext ml, ITransformer transformer, DataViewSchema inputSchema)
    {
        _ml = ml;
        Transformer = transformer;
        InputSchema = inputSchema;
        _stages = ModelStages.Of(transformer, inputSchema);
    }

    public ITransformer Transformer { get; }

    public DataViewSchema InputSchema { get; }

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
    public float[] Predict(IEnumerable<ModelInput> rows)
    {
        var input = _ml.Data.LoadFromEnumerable(rows);
        if (_stages is null)
        {
            return Transformer.Transform(input).GetColumn<float>(ProbabilityColumn).ToArray();
        }

        var features = _ml.Data.LoadFromEnumerable(_stages.Dense(_stages.Featurizer.Transform(input)), _stages.DenseFeatures);
        return _stages.Learner.Transform(features).GetColumn<float>(ProbabilityColumn).ToArray();
    }

    /// <summary>A single-row scorer: fast, but not safe to share between threads (pool it).</summary>
    public ReadmissionScorer CreateScorer() => new(_ml, Transformer, _stages, InputSchema);

    public byte[] ToZip()
    {
        using var stream = new MemoryStream();
        _ml.Model.Save(Transformer, InputSchema, stream);
        return stream.ToArray();
    }
}
