using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Diabetes.AppHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Diabetes.AppHost.Tests;

/// <summary>Airflow's health endpoint answers 200 whatever the state: the AppHost's check reads the report.</summary>
public class AirflowHealthCheckTests
{
    private const string Healthy = """{"metadatabase":{"status":"healthy"},"scheduler":{"status":"healthy","latest_scheduler_heartbeat":"2026-12-03T08:00:00+00:00"},"triggerer":{"status":"healthy"},"dag_processor":{"status":"healthy"}}""";

    [Theory]
    [InlineData(200, Healthy, HealthStatus.Healthy, null)]
    [InlineData(200, """{"metadatabase":{"status":"healthy"},"scheduler":{"status":"unhealthy","latest_scheduler_heartbeat":null},"dag_processor":{"status":"healthy"}}""", HealthStatus.Unhealthy, "Airflow reports scheduler not healthy.")]
    [InlineData(200, """{"metadatabase":{"status":"unhealthy"},"scheduler":{"status":"healthy"}}""", HealthStatus.Unhealthy, "Airflow reports metadatabase, dag_processor not healthy.")]
    [InlineData(200, "null", HealthStatus.Unhealthy, "Airflow reports metadatabase, scheduler, dag_processor not healthy.")]
    [InlineData(500, "<html>Internal Server Error</html>", HealthStatus.Unhealthy, "Airflow's health report is not readable")]
    public async Task ReadsTheReportNotTheStatusCode(int status, string report, HealthStatus expected, string? description)
    {
        await using var airflow = await FakeAirflowAsync(status, report);

        var result = await CheckAsync(new Uri(airflow.Urls.Single()));

        Assert.Equal(expected, result.Status);
        if (description is not null)
        {
            Assert.StartsWith(description, result.Description);
        }
    }

    [Fact]
    public async Task AnAirflowThatIsNotListeningIsUnhealthy()
    {
        var result = await CheckAsync(new Uri("http://127.0.0.1:9/"));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("Airflow's health report is not readable", result.Description);
    }

    [Fact]
    public async Task TheAppHostRegistersTheCheckForTheAirflowResource()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Diabetes_AppHost>(
            ["--environment", "Testing", "Parameters:postgres-password=test-password", "Parameters:minio-password=test-password"]);
        await using var app = await builder.BuildAsync();

        var airflow = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "airflow");
        var key = Assert.Single(airflow.Annotations.OfType<HealthCheckAnnotation>()).Key;
        var registrations = app.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.IsType<AirflowHealthCheck>(registrations.Single(r => r.Name == key).Factory(app.Services));
    }

    private static async Task<HealthCheckResult> CheckAsync(Uri airflow)
    {
        await using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        var check = new AirflowHealthCheck(services.GetRequiredService<IHttpClientFactory>(), () => airflow);
        return await check.CheckHealthAsync(new HealthCheckContext());
    }

    private static async Task<WebApplication> FakeAirflowAsync(int status, string report)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/api/v2/monitor/health", () => Results.Content(report, "application/json", statusCode: status));
        await app.StartAsync();
        return app;
    }
}
