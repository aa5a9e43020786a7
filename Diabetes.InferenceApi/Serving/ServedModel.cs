using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// A Production version loaded in memory: the model with its featurization, the decision threshold and where it came
/// from, and a pool of prediction engines (one engine serves one request at a time) that lives and goes with it.
/// </summary>
public sealed class ServedModel
{
    private readonly ObjectPool<PredictionEngine<ModelInput, ModelOutput>> _engines;

    public ServedModel(ModelVersion version, ReadmissionModel model, ModelMetadata metadata, IReadOnlyDictionary<string, double> metrics, DateTimeOffset loadedAt)
    {
        Version = version;
        Metadata = metadata;
        Metrics = metrics;
        LoadedAt = loadedAt;
        _engines = new DefaultObjectPool<PredictionEngine<ModelInput, ModelOutput>>(new EnginePolicy(model), Environment.ProcessorCount * 2);

        // Engines are built now, off the request path, so that the first requests after a swap do not pay for them.
        var warm = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => _engines.Get()).ToArray();
        foreach (var engine in warm)
        {
            _engines.Return(engine);
        }
    }

    public ModelVersion Version { get; }

    public ModelMetadata Metadata { get; }

    /// <summary>The metrics of the run that trained it (validation and test).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>The probability of readmission within 30 days. Safe to call from any number of threads.</summary>
    public double Predict(ModelInput input)
    {
        var engine = _engines.Get();
        try
        {
            return engine.Predict(input).Probability;
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    public bool Decide(double probability) => probability >= Metadata.Threshold;

    private sealed class EnginePolicy(ReadmissionModel model) : PooledObjectPolicy<PredictionEngine<ModelInput, ModelOutput>>
    {
        public override PredictionEngine<ModelInput, ModelOutput> Create() => model.CreatePredictionEngine();

        public override bool Return(PredictionEngine<ModelInput, ModelOutput> engine) => true;
    }
}
