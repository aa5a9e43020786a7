using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.AppHost;

internal static class AirflowExtensions
{
    // Apache Airflow 3 (not "slim": that one lacks the HTTP provider the DAGs use). Pinned: no floating tag.
    private const string Image = "apache/airflow";
    private const string Tag = "3.1.8-python3.12";
    private const int Port = 8080;
    private const string PasswordsFile = "/opt/airflow/simple_auth_manager_passwords.json";

    private const string StartCommand =
        """python -c 'import json, os; json.dump({"admin": os.environ["AIRFLOW_ADMIN_PASSWORD"]}, open(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"], "w"))' && exec airflow standalone""";

    /// <summary>
    /// Airflow <c>standalone</c> (scheduler, DAG processor, API server and triggerer in one container) with its
    /// metadata in <paramref name="database"/> of <paramref name="postgres"/>, the DAGs of <c>airflow/dags</c>
    /// mounted, the user <c>admin</c> with <paramref name="adminPassword"/>, and a health check that reads Airflow's
    /// own health report (its endpoint answers 200 whatever the state).
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddAirflow(this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<PostgresServerResource> postgres, IResourceBuilder<PostgresDatabaseResource> database,
        IResourceBuilder<ParameterResource> adminPassword, IResourceBuilder<ParameterResource> jwtSecret)
    {
        var airflow = builder.AddContainer(name, Image, Tag)
            .WithImageRegistry("docker.io")
            .WithHttpEndpoint(targetPort: Port, name: "http")
            .WithUrlForEndpoint("http", url => url.DisplayText = "Airflow UI")
            .WithBindMount("../airflow/dags", "/opt/airflow/dags", isReadOnly: true)
            .WithEnvironment("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", postgres.Resource.SqlAlchemyUri(database.Resource.DatabaseName))
            .WithEnvironment("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            // The DAGs run on their schedules from the start, without a click in the UI.
            .WithEnvironment("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
            // One secret for every component, or tasks fail with "Signature verification failed".
            .WithEnvironment("AIRFLOW__API_AUTH__JWT_SECRET", jwtSecret)
            .WithEnvironment("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
            .WithEnvironment("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", PasswordsFile)
            .WithEnvironment("AIRFLOW_ADMIN_PASSWORD", adminPassword)
            // The image's entrypoint runs a leading "bash" as given: write the admin's password where the simple auth
            // manager reads it (standalone would otherwise generate one), as JSON whatever its characters, then
            // start every component.
            .WithArgs("bash", "-c", StartCommand)
            .WaitFor(database);

        var healthCheckKey = $"{name}_health";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey,
            services => new AirflowHealthCheck(services.GetRequiredService<IHttpClientFactory>(), () => new Uri(airflow.GetEndpoint("http").Url)),
            failureStatus: null, tags: null));
        return airflow.WithHealthCheck(healthCheckKey);
    }

    /// <summary>
    /// A connection of the DAGs, <c>AIRFLOW_CONN_{ID}</c>, pointing at a service's HTTP endpoint; the caller says how
    /// long Airflow waits for the service.
    /// </summary>
    public static IResourceBuilder<ContainerResource> WithConnection(this IResourceBuilder<ContainerResource> airflow, string connectionId,
        IResourceBuilder<ProjectResource> service) =>
        airflow.WithEnvironment($"AIRFLOW_CONN_{connectionId.ToUpperInvariant()}", service.GetEndpoint("http"));

    /// <summary>
    /// A DAG schedule (a cron expression or preset) from the AppHost's configuration, when one is set there
    /// (<c>dotnet user-secrets set DIABETES_DATA_SCHEDULE "*/20 * * * *"</c>); else the DAG's own default applies.
    /// </summary>
    public static IResourceBuilder<ContainerResource> WithScheduleFromConfiguration(this IResourceBuilder<ContainerResource> airflow, string variable) =>
        airflow.ApplicationBuilder.Configuration[variable] is { Length: > 0 } schedule ? airflow.WithEnvironment(variable, schedule) : airflow;
}

/// <summary>
/// Healthy when Airflow's health report (<c>/api/v2/monitor/health</c>, always 200) says the metadata database, the
/// scheduler and the DAG processor are healthy.
/// </summary>
public sealed class AirflowHealthCheck(IHttpClientFactory clients, Func<Uri> baseAddress) : IHealthCheck
{
    private static readonly string[] Components = ["metadatabase", "scheduler", "dag_processor"];

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = clients.CreateClient();
            client.Timeout = TimeSpan.FromSeconds(5);
            using var report = await client.GetFromJsonAsync<JsonDocument>(new Uri(baseAddress(), "/api/v2/monitor/health"), cancellationToken);
            var unhealthy = Components.Where(c => !IsHealthy(report?.RootElement, c)).ToArray();
            return unhealthy.Length == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Airflow reports {string.Join(", ", unhealthy)} not healthy.");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            return HealthCheckResult.Unhealthy($"Airflow's health report is not readable: {exception.Message}");
        }
    }

    private static bool IsHealthy(JsonElement? report, string component) =>
        report is { ValueKind: JsonValueKind.Object } root
        && root.TryGetProperty(component, out var part) && part.ValueKind == JsonValueKind.Object
        && part.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String && status.GetString() == "healthy";
}
