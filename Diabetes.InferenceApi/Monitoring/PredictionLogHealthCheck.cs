using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// Degraded while the prediction log loses predictions: while the writer cannot write, and for
/// <see cref="DropWindow"/> after a prediction was dropped. Never unhealthy: predictions are answered all the same, so
/// the instance stays in rotation.
/// </summary>
public sealed class PredictionLogHealthCheck(PredictionLog log, TimeProvider timeProvider) : IHealthCheck
{
    public static readonly TimeSpan DropWindow = TimeSpan.FromMinutes(1);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var dropped = $"{log.Dropped:N0} predictions not logged since the start";
        var result = (log.Failure, log.LastDropAt) switch
        {
            ({ } failure, _) => HealthCheckResult.Degraded(
                $"The prediction log cannot be written since {failure.Since:O} ({failure.Error}); {log.Queued:N0} predictions wait in the queue; {dropped}"),
            (_, { } last) when timeProvider.GetUtcNow() - last < DropWindow => HealthCheckResult.Degraded(
                $"The prediction log's queue of {log.Capacity:N0} was full at {last:O}; {dropped}"),
            _ => HealthCheckResult.Healthy($"Prediction log written; {dropped}"),
        };
        return Task.FromResult(result);
    }
}
