using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// The inference API's traces and metrics (exported by the service defaults, which take every <c>Diabetes.*</c>
/// source): a span per prediction request and per model swap, predictions counted by model version and outcome, their
/// latency, and the version being served.
/// </summary>
public sealed class ServingTelemetry
{
    public const string SourceName = "Diabetes.InferenceApi";

    public static readonly ActivitySource ActivitySource = new(SourceName);

    private readonly Counter<long> _predictions;
    private readonly Counter<long> _swaps;
    private readonly Counter<long> _rejections;
    private readonly Histogram<double> _duration;

    public ServingTelemetry(IMeterFactory meterFactory, ServingState state)
    {
        var meter = meterFactory.Create(SourceName);
        _predictions = meter.CreateCounter<long>("diabetes.predictions", "{prediction}", "Predictions made, by model version and outcome");
        _duration = meter.CreateHistogram<double>("diabetes.prediction.duration", "ms", "Time to validate, clean and score one request");
        _swaps = meter.CreateCounter<long>("diabetes.model.swaps", "{swap}", "Versions put in service");
        _rejections = meter.CreateCounter<long>("diabetes.model.rejections", "{version}", "Production versions refused (files missing or corrupt, failed self-check)");
        meter.CreateObservableGauge("diabetes.model.served_version", () => state.Model is { } model
            ? [new Measurement<long>(long.Parse(model.Version.Version, CultureInfo.InvariantCulture))]
            : Array.Empty<Measurement<long>>(), description: "The version of the model being served");
    }

    public void RecordPrediction(ServedModel model, bool readmitted) =>
        _predictions.Add(1, new KeyValuePair<string, object?>("model.version", model.Version.Version),
            new KeyValuePair<string, object?>("outcome", readmitted ? "readmitted" : "not_readmitted"));

    public void RecordSwap(ServedModel model) => _swaps.Add(1, new KeyValuePair<string, object?>("model.version", model.Version.Version));

    public void RecordRejection(string version) => _rejections.Add(1, new KeyValuePair<string, object?>("model.version", version));

    public void RecordDuration(TimeSpan elapsed, string endpoint) =>
        _duration.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("endpoint", endpoint));
}
