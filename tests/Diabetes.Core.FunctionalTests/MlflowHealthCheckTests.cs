using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.Core.FunctionalTests;

/// <summary>
/// The MLflow readiness check probes an API path, which MLflow 3 guards with its Host check, not <c>/health</c>; it asks
/// once and says what MLflow answered.
/// </summary>
public class MlflowHealthCheckTests
{
    private static Task<HealthCheckResult> CheckAsync(MlflowFixture mlflow, HealthStatus failureStatus) =>
        ActivatorUtilities.CreateInstance<MlflowHealthCheck>(mlflow.Services).CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration(MlflowClientExtensions.ServiceName, _ => null!, failureStatus, null),
        });

    [Fact]
    public async Task IsHealthyWhileTheApiAnswers()
    {
        // Arrange
        await using var mlflow = await MlflowFixture.StartAsync();

        // Act
        var result = await CheckAsync(mlflow, HealthStatus.Unhealthy);

        // Assert
        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Single(mlflow.Requests(MlflowHealthCheck.ProbePath));
    }

    [Fact]
    public async Task FailsWhenTheApiRefusesTheHostEvenThoughHealthAnswers()
    {
        // Arrange: MLflow 3 that allows only its service name, reached by its loopback address
        await using var mlflow = await MlflowFixture.StartAsync(MlflowServerDouble.Mlflow3, ["mlflow", "mlflow:*"]);

        // Act
        var health = await mlflow.Api.HealthAsync(CancellationToken.None);
        var result = await CheckAsync(mlflow, HealthStatus.Unhealthy);

        // Assert
        Assert.Equal("OK", health);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The MLflow server answers API calls with 403 HTTP_403; is this service's host name in MLflow's --allowed-hosts?", result.Description);
    }

    [Fact]
    public async Task SaysWhatTheServerAnsweredWithTheRegisteredStatusAndAsksOnce()
    {
        // Arrange: a server that answers 503, which the API client would retry
        await using var mlflow = await MlflowFixture.StartAsync();
        mlflow.Server.Unavailable = true;

        // Act
        var result = await CheckAsync(mlflow, HealthStatus.Degraded);

        // Assert
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Equal("The MLflow server answers API calls with 503 HTTP_503", result.Description);
        Assert.Single(mlflow.Requests(MlflowHealthCheck.ProbePath));
    }

    [Fact]
    public async Task SaysWhenNothingAnswers()
    {
        // Arrange: the server is gone
        var mlflow = await MlflowFixture.StartAsync();
        await mlflow.Server.DisposeAsync();

        // Act
        var result = await CheckAsync(mlflow, HealthStatus.Unhealthy);

        // Assert
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The MLflow server does not answer.", result.Description);
        await mlflow.DisposeAsync();
    }
}
