using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Diabetes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Diabetes.AppHost.Tests;

/// <summary>The application model, inspected without starting it (no container runtime is needed).</summary>
public class AppHostModelTests
{
    private static async Task<DistributedApplicationModel> BuildModelAsync(params string[] settings)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Diabetes_AppHost>(
            ["--environment", "Testing", "Parameters:postgres-password=test-password", "Parameters:minio-password=test-password", .. settings]);
        var app = await builder.BuildAsync();
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }

    /// <summary>The environment a resource would be started with.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> EnvironmentOfAsync(IResource resource)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), NullLogger.Instance, CancellationToken.None);
        return configuration.EnvironmentVariables.ToDictionary(v => v.Key, v => v.Value);
    }

    /// <summary>
    /// The environment a resource's callbacks declare, before any value is resolved (endpoints are references, since
    /// nothing is allocated without starting the model).
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, object>> EnvironmentCallbacksOfAsync(IResource resource)
    {
        var variables = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), resource, variables);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return variables;
    }

    private static readonly string[] ExternalSettings =
    [
        "Infrastructure:Mode=External",
        "ConnectionStrings:rawdata=Host=db.internal;Database=rawdata;Username=diabetes;Password=x",
        "ConnectionStrings:cleandata=Host=db.internal;Database=cleandata;Username=diabetes;Password=x",
        "ConnectionStrings:monitoring=Host=db.internal;Database=monitoring;Username=diabetes;Password=x",
        "ConnectionStrings:minio=Endpoint=http://s3.internal:9000;AccessKey=a;SecretKey=b",
        "Parameters:mlflow-url=http://mlflow.internal:5000/",
    ];

    [Fact]
    public async Task DeclaresTheInfrastructureAndTheServices()
    {
        var model = await BuildModelAsync();

        var names = model.Resources.Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "postgres", "rawdata", "cleandata", "monitoring", "mlflowdb", "airflowdb", "minio", "mlflow", "airflow", "ingest", "trainer", "inference", "web" }, names);
        Assert.IsType<PostgresServerResource>(model.Resources.Single(r => r.Name == "postgres"));
        Assert.IsType<PostgresDatabaseResource>(model.Resources.Single(r => r.Name == "rawdata"));
        Assert.IsType<MinioResource>(model.Resources.Single(r => r.Name == "minio"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "ingest"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "trainer"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "inference"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "web"));
        Assert.IsAssignableFrom<ContainerResource>(model.Resources.Single(r => r.Name == "mlflow"));
        Assert.IsAssignableFrom<ContainerResource>(model.Resources.Single(r => r.Name == "airflow"));
    }

    [Fact]
    public async Task ExternalModeStartsNoContainerAndWiresTheServicesToTheGivenServers()
    {
        var model = await BuildModelAsync(ExternalSettings);

        Assert.Empty(model.Resources.OfType<ContainerResource>());
        Assert.IsType<ExternalServiceResource>(model.Resources.Single(r => r.Name == "mlflow"));
        foreach (var name in new[] { "rawdata", "cleandata", "monitoring", "minio" })
        {
            Assert.IsAssignableFrom<IResourceWithConnectionString>(Assert.IsAssignableFrom<ParameterResource>(model.Resources.Single(r => r.Name == name)));
        }

        Assert.Equal(["inference", "ingest", "trainer", "web"], model.Resources.OfType<ProjectResource>().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var service in new[] { "trainer", "inference", "web" })
        {
            var project = model.Resources.Single(r => r.Name == service);
            Assert.Contains("mlflow", project.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name));
            var environment = await EnvironmentOfAsync(project);
            Assert.Equal("http://mlflow.internal:5000/", environment["services__mlflow__http__0"]);
        }

        var ingest = await EnvironmentOfAsync(model.Resources.Single(r => r.Name == "ingest"));
        Assert.Equal("Host=db.internal;Database=rawdata;Username=diabetes;Password=x", ingest["ConnectionStrings__rawdata"]);
        Assert.Equal("Endpoint=http://s3.internal:9000;AccessKey=a;SecretKey=b", ingest["ConnectionStrings__minio"]);
        var inference = await EnvironmentOfAsync(model.Resources.Single(r => r.Name == "inference"));
        Assert.Equal("Host=db.internal;Database=monitoring;Username=diabetes;Password=x", inference["ConnectionStrings__monitoring"]);
    }

    [Fact]
    public async Task AMisspeltModeStopsTheAppHostSayingWhichModesExist()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => BuildModelAsync("Infrastructure:Mode=Extrenal"));

        Assert.Contains("Infrastructure:Mode is 'Extrenal': use Containers (the default) or External.", error.ToString());
    }

    [Fact]
    public async Task ExternalModeShowsAnExistingAirflowOnTheDashboardWhenGivenItsUrl()
    {
        var model = await BuildModelAsync([.. ExternalSettings, "Parameters:airflow-url=http://airflow.internal:8080/"]);

        Assert.IsType<ExternalServiceResource>(model.Resources.Single(r => r.Name == "airflow"));
    }

    [Theory]
    [InlineData("ingest", new[] { "rawdata", "cleandata", "minio" })]
    [InlineData("trainer", new[] { "cleandata", "mlflow" })]
    [InlineData("mlflow", new[] { "mlflowdb", "minio" })]
    [InlineData("inference", new[] { "mlflow", "monitoring" })]
    [InlineData("web", new[] { "inference", "mlflow" })]
    [InlineData("airflow", new[] { "airflowdb", "ingest", "trainer", "inference" })]
    public async Task EachResourceWaitsForWhatItUsesAndHasAHealthCheck(string resource, string[] dependencies)
    {
        var model = await BuildModelAsync();
        var service = model.Resources.Single(r => r.Name == resource);

        var waitsFor = service.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).ToHashSet();
        Assert.Superset(dependencies.ToHashSet(), waitsFor);
        Assert.Contains(service.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
    }

    [Fact]
    public async Task AirflowWaitsForIngestAndTrainerToBeHealthyAndForInferenceOnlyToStart()
    {
        var model = await BuildModelAsync();

        var waits = model.Resources.Single(r => r.Name == "airflow").Annotations.OfType<WaitAnnotation>()
            .ToDictionary(w => w.Resource.Name, w => w.WaitType);

        // Inference is Unhealthy while its Production version is refused: the DAGs that replace it must start meanwhile.
        Assert.Equal(WaitType.WaitUntilStarted, waits["inference"]);
        Assert.Equal(WaitType.WaitUntilHealthy, waits["ingest"]);
        Assert.Equal(WaitType.WaitUntilHealthy, waits["trainer"]);
        Assert.Equal(WaitType.WaitUntilHealthy, waits["airflowdb"]);
    }

    [Fact]
    public async Task AirflowGetsAConnectionForEveryConnectionTheDagsUseAndTheSchedulesSetInTheAppHostsConfiguration()
    {
        // Arrange: the connections and schedule variables the DAG files use, each schedule set in the configuration
        var dags = await Task.WhenAll(new[] { "diabetes_data", "diabetes_training", "diabetes_monitoring" }.Select(DagFiles.DescribeAsync));
        var connections = dags.SelectMany(d => d["tasks"]!.AsArray()).Select(t => (string?)t!["http_conn_id"]).OfType<string>().Distinct().ToArray();
        var schedules = dags.Select(d => (string)d["dag"]!["schedule"]!["env"]!).ToArray();

        // Act
        var model = await BuildModelAsync([.. schedules.Select(variable => $"{variable}=*/7 * * * *")]);
        var environment = await EnvironmentCallbacksOfAsync(model.Resources.Single(r => r.Name == "airflow"));

        // Assert: each connection points at the service's http endpoint (ingest_api at ingest, ...), each schedule is passed on
        Assert.Equal(["inference_api", "ingest_api", "trainer_api"], connections.Order(StringComparer.Ordinal));
        foreach (var connection in connections)
        {
            var endpoint = Assert.IsType<EndpointReference>(environment[$"AIRFLOW_CONN_{connection.ToUpperInvariant()}"]);
            Assert.Equal((connection.Replace("_api", "", StringComparison.Ordinal), "http"), (endpoint.Resource.Name, endpoint.EndpointName));
        }

        Assert.All(schedules, variable => Assert.Equal("*/7 * * * *", environment[variable]));
    }

    [Fact]
    public async Task SecretsAreSecretParameters()
    {
        var model = await BuildModelAsync();

        var parameters = model.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        Assert.True(parameters["postgres-password"].Secret);
        Assert.True(parameters["minio-password"].Secret);
        Assert.True(parameters["airflow-admin-password"].Secret);
        Assert.True(parameters["airflow-jwt-secret"].Secret);
    }
}
