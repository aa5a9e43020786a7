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

    /// <summary>
    /// The most predictions one binary COPY writes (<c>Monitoring__BatchSize</c>), and as many as the writer writes
    /// without waiting for more. At full load (7,000 a second on two cores) that is a transaction every seventh of a
    /// second; with 5,000 the queue kept up to a second's worth alive, and the service ran 79-87 % as fast with the log
    /// as without it (docs/benchmarks.md).
    /// </summary>
    public int BatchSize { get; set; } = 1_000;

    /// <summary>A population stability index from which an input's drift is <c>warn</c> (<c>Monitoring__PsiWarn</c>).</summary>
    public double PsiWarn { get; set; } = 0.1;

    /// <summary>A population stability index over which an input's drift is <c>alert</c> (<c>Monitoring__PsiAlert</c>).</summary>
    public double PsiAlert { get; set; } = 0.25;

    /// <summary>Fewer predictions in a drift window give <c>insufficient data</c>, never an alarm (<c>Monitoring__MinimumRows</c>).</summary>
    public int MinimumRows { get; set; } = 500;

    /// <summary>
    /// Outcomes a version needs before its live quality is given (<c>Monitoring__MinimumOutcomes</c>): with fewer, the
    /// figures would swing with every outcome, and <c>GET /api/monitoring/performance</c> says "insufficient data".
    /// </summary>
    public int MinimumOutcomes { get; set; } = 300;

    /// <summary>
    /// How far live ROC-AUC may fall below the version's test ROC-AUC before it counts as fallen (<c>Monitoring__AucDrop</c>),
    /// what the monitoring DAG retrains on.
    /// </summary>
    public double AucDrop { get; set; } = 0.05;
}
