using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.Core.Mlflow;

/// <summary>
/// Ready only while the MLflow server answers an API call. <c>/health</c> is not enough: MLflow 3.5+ exempts it from
/// its Host-header check, so it stays green while every API call is refused with 403 (a service name missing from
/// <c>--allowed-hosts</c>). A failure reports the registration's failure status: unhealthy for a service that cannot
/// work without MLflow, degraded for one that keeps serving what it has.
/// </summary>
public sealed class MlflowHealthCheck(IMlflowApi mlflow) : IHealthCheck
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            await mlflow.SearchExperimentsAsync(maxResults: 1, timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (MlflowException exception)
        {
            return new HealthCheckResult(context.Registration.FailureStatus,
                $"The MLflow server answers API calls with {(int)exception.StatusCode} {exception.ErrorCode}.", exception);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The MLflow server does not answer.", exception);
        }
    }
}
