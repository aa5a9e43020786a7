using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// Readiness as the watcher last found it (its look at the registry is an API call, which MLflow's Host check guards,
/// unlike MLflow's <c>/health</c>):
/// <list type="bullet">
/// <item>unhealthy while nothing is served that could be: before the first look, while MLflow cannot be reached, or
/// while a Production version exists and is not loaded (still loading, or refused), so that no instance takes traffic
/// it would answer 503;</item>
/// <item>degraded while serving with MLflow unreachable, a newer Production version refused or loading, or no version
/// holding Production any more; and when no version holds Production at all (every instance then answers 503 "no model
/// in Production yet", which is better said than a connection refused);</item>
/// <item>healthy while serving what the registry marks as Production.</item>
/// </list>
/// </summary>
public sealed class ServingHealthCheck(ServingState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(state.Model, state.Mlflow, state.Registry, state.Problem));

    private static HealthCheckResult Check(ServedModel? model, MlflowContact mlflow, RegistryView? registry, LoadProblem? problem)
    {
        var unreachable = mlflow.UnreachableSince is { } since ? $"MLflow unreachable since {since:O} ({mlflow.LastError})" : null;
        var why = problem is null ? "loading" : $"{(problem.Rejected ? "refused" : "not fetched")}: {problem.Reason}";
        if (model is null)
        {
            return (registry, unreachable) switch
            {
                (_, not null) => HealthCheckResult.Unhealthy($"No model loaded; {unreachable}"),
                (null, _) => HealthCheckResult.Unhealthy("MLflow not asked yet"),
                ({ ProductionVersion: null }, _) => HealthCheckResult.Degraded("No model in Production yet"),
                _ => HealthCheckResult.Unhealthy($"Version {registry.ProductionVersion} holds Production and is not loaded ({why})"),
            };
        }

        var serving = $"Serving version {model.Version.Version}";
        return (unreachable, registry) switch
        {
            (not null, _) => HealthCheckResult.Degraded($"{serving}; {unreachable}"),
            (_, { ProductionIdentity: null }) => HealthCheckResult.Degraded($"{serving}; no version holds Production any more"),
            (_, { ProductionIdentity: var production }) when production != model.Version.Identity =>
                HealthCheckResult.Degraded($"{serving}; version {registry.ProductionVersion} holds Production ({why})"),
            _ => HealthCheckResult.Healthy(serving),
        };
    }
}
