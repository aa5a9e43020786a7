using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.Core.FunctionalTests;

/// <summary>The MLflow readiness check probes an API path, which MLflow 3 guards with its Host check, not <c>/health</c>.</summary>
public class MlflowHealthCheckTests
{
    private static Task<HealthCheckResult> CheckAsync(MlflowFixture mlflow, HealthStatus failureStatus) =>
        new MlflowHealthCheck(mlflow.Api).CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration(MlflowClientExtensions.ServiceName, _ => null!, failureStatus, null),
        });

    [Fact]
    public async Task IsHealthyWhileTheApiAnswers()
    {
        await using var mlflow = await MlflowFixture.StartAsync();

        var result = await CheckAsync(mlflow, HealthStatus.Unhealthy);

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Single(mlflow.Requests("/experiments/search?max_results=1"));
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
        Assert.Equal("The MLflow server answers API calls with 403 HTTP_403.", result.Description);
    }

    [Fact]
    public async Task ReportsTheRegisteredFailureStatusWhenTheServerIsDown()
    {
        await using var mlflow = await MlflowFixture.StartAsync();
        mlflow.Server.Unavailable = true;

        var result = await CheckAsync(mlflow, HealthStatus.Degraded);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("MLflow", result.Description);
    }
}
