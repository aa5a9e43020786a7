namespace Diabetes.InferenceApi;

/// <summary>Configuration section <c>Monitoring</c>: the prediction log and what is measured from it.</summary>
public sealed class MonitoringOptions
{
    /// <summary>Days a logged prediction is kept (<c>Monitoring__RetentionDays</c>); older days are dropped whole.</summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>
    /// Predictions waiting for the writer (<c>Monitoring__QueueCapacity</c>): about 1 KiB each, so the default holds
    /// some 50 MiB, a few seconds of the service's peak rate; what does not fit is dropped and counted.
    /// </summary>
    public int QueueCapacity { get; set; } = 50_000;

    /// <summary>The most predictions one binary COPY writes (<c>Monitoring__BatchSize</c>).</summary>
    public int BatchSize { get; set; } = 5_000;

    /// <summary>
    /// Outcomes a version needs before its live quality is given (<c>Monitoring__MinimumOutcomes</c>): with fewer, the
    /// figures would swing with every outcome, and <c>GET /api/monitoring/performance</c> says "insufficient data".
    /// </summary>
    public int MinimumOutcomes { get; set; } = 300;
}
