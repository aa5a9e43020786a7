using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.Core.Mlflow;

/// <summary>
/// Ready only while the MLflow server answers an API call. <c>/health</c> is not enough: MLflow 3.5+ exempts it from
/// its Host-header check, so it stays green while every API call is refused with 403 (a service name missing from
/// <c>--allowed-hosts</c>). The probe goes out once, without the retries of the API client, so that it answers within
/// a probe's time and says what MLflow answered. A failure reports the registration's failure status.
/// </summary>
public sealed class MlflowHealthCheck(IHttpClientFactory httpClientFactory) : IHealthCheck
{
    /// <summary>The HTTP client of the probe: MLflow's address, no retries, a short timeout.</summary>
    public const string ProbeClientName = "mlflow-probe";

    public const string ProbePath = "/api/2.0/mlflow/experiments/search?max_results=1";

    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await httpClientFactory.CreateClient(ProbeClientName).GetAsync(ProbePath, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return HealthCheckResult.Healthy();
            }

            var error = await MlflowException.FromResponseAsync(response);
            var hint = response.StatusCode == HttpStatusCode.Forbidden ? "; is this service's host name in MLflow's --allowed-hosts?" : "";
            return new HealthCheckResult(context.Registration.FailureStatus,
                $"The MLflow server answers API calls with {(int)response.StatusCode} {error.ErrorCode}{hint}", error);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The MLflow server does not answer.", exception);
        }
    }
}
