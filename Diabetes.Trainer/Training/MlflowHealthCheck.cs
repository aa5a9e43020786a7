using Diabetes.Core.Mlflow;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.Trainer.Training;

/// <summary>Ready only while the MLflow server answers <c>/health</c>.</summary>
public sealed class MlflowHealthCheck(IMlflowApi mlflow) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await mlflow.HealthAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The MLflow server does not answer.", exception);
        }
    }
}
