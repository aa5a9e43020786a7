using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// Readiness as the watcher last found it (its look at the registry is an API call, which MLflow's Host check guards,
/// unlike MLflow's <c>/health</c>). Degraded, never unhealthy: with MLflow down the loaded model still serves, and with
/// no model yet a caller is better answered 503 "no model in Production yet" than not at all.
/// </summary>
public sealed class ServingHealthCheck(ServingState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var model = state.Model;
        var mlflow = state.Mlflow;
        var serving = model is null ? "No model in Production yet" : $"Serving version {model.Version.Version}";
        return Task.FromResult(mlflow.UnreachableSince is { } since
            ? HealthCheckResult.Degraded($"{serving}; MLflow unreachable since {since:O} ({mlflow.LastError})")
            : model is null
                ? HealthCheckResult.Degraded(serving)
                : HealthCheckResult.Healthy(serving));
    }
}
