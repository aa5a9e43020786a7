using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// The inference API's traces and metrics (exported by the service defaults, which take every <c>Diabetes.*</c>
/// source): a span per prediction request and per model swap, predictions counted by model version and outcome, their
/// latency, explanations that failed, the version being served, and the predictions the log wrote and dropped.
/// </summary>
public sealed class ServingTelemetry
{
    public const string SourceName = "Diabetes.InferenceApi";

    public static readonly ActivitySource ActivitySource = new(SourceName);

    private readonly Counter<long> _predictions;
    private readonly Counter<long> _swaps;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _explanationFailures;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _logWritten;
    private readonly Counter<long> _logDropped;

    public ServingTelemetry(IMeterFactory meterFactory, ServingState state)
    {
        var meter = meterFactory.Create(SourceName);
        _predictions = meter.CreateCounter<long>("diabetes.predictions", "{prediction}", "Predictions made, by model version and outcome");
        _duration = meter.CreateHistogram<double>("diabetes.prediction.duration", "ms", "Time to validate, clean and score one request");
        _swaps = meter.CreateCounter<long>("diabetes.model.swaps", "{swap}", "Versions put in service");
        _rejections = meter.CreateCounter<long>("diabetes.model.rejections", "{version}", "Production versions refused (files missing or corrupt, failed self-check)");
        _explanationFailures = meter.CreateCounter<long>("diabetes.explanation.failures", "{prediction}",
            "Predictions asked with explain=true whose explanation failed (answered with explanation null), by model version");
        meter.CreateObservableGauge("diabetes.model.served_version", () => state.Model is { } model
            ? [new Measurement<long>(long.Parse(model.Version.Version, CultureInfo.InvariantCulture))]
            : Array.Empty<Measurement<long>>(), description: "The version of the model being served");
        _logWritten = meter.CreateCounter<long>("diabetes.prediction_log.written", "{prediction}", "Predictions written to the prediction log");
        _logDropped = meter.CreateCounter<long>("diabetes.prediction_log.dropped", "{prediction}",
            "Predictions answered but not logged, by reason (queue_full: the queue was full; stopped: the service stopped first)");
    }

    public void RecordPrediction(ServedModel model, bool readmitted) =>
        _predictions.Add(1, new KeyValuePair<string, object?>("model.version", model.Version.Version),
            new KeyValuePair<string, object?>("outcome", readmitted ? "readmitted" : "not_readmitted"));

    public void RecordSwap(ServedModel model) => _swaps.Add(1, new KeyValuePair<string, object?>("model.version", model.Version.Version));

    public void RecordRejection(string version) => _rejections.Add(1, new KeyValuePair<string, object?>("model.version", version));

    public void RecordExplanationFailure(ServedModel model) =>
        _explanationFailures.Add(1, new KeyValuePair<string, object?>("model.version", model.Version.Version));

    public void RecordLogWritten(int count) => _logWritten.Add(count);

    public void RecordLogDropped(int count, string reason) => _logDropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void RecordDuration(TimeSpan elapsed, string endpoint) =>
        _duration.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("endpoint", endpoint));
}
