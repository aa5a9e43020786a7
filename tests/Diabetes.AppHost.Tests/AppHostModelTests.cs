using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.AppHost.Tests;

/// <summary>The application model, inspected without starting it (no container runtime is needed).</summary>
public class AppHostModelTests
{
    private static async Task<DistributedApplicationModel> BuildModelAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Diabetes_AppHost>(
            ["--environment", "Testing", "Parameters:postgres-password=test-password", "Parameters:minio-password=test-password"]);
        var app = await builder.BuildAsync();
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }

    [Fact]
    public async Task DeclaresTheInfrastructureAndTheServices()
    {
        var model = await BuildModelAsync();

        var names = model.Resources.Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "postgres", "rawdata", "cleandata", "mlflowdb", "minio", "mlflow", "ingest", "trainer", "inference", "web" }, names);
        Assert.IsType<PostgresServerResource>(model.Resources.Single(r => r.Name == "postgres"));
        Assert.IsType<PostgresDatabaseResource>(model.Resources.Single(r => r.Name == "rawdata"));
        Assert.IsType<MinioResource>(model.Resources.Single(r => r.Name == "minio"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "ingest"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "trainer"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "inference"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "web"));
        Assert.IsAssignableFrom<ContainerResource>(model.Resources.Single(r => r.Name == "mlflow"));
    }

    [Theory]
    [InlineData("ingest", new[] { "rawdata", "cleandata", "minio" })]
    [InlineData("trainer", new[] { "cleandata", "mlflow" })]
    [InlineData("mlflow", new[] { "mlflowdb", "minio" })]
    [InlineData("inference", new[] { "mlflow" })]
    [InlineData("web", new[] { "inference" })]
    public async Task EachResourceWaitsForWhatItUsesAndHasAHealthCheck(string resource, string[] dependencies)
    {
        var model = await BuildModelAsync();
        var service = model.Resources.Single(r => r.Name == resource);

        var waitsFor = service.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).ToHashSet();
        Assert.Superset(dependencies.ToHashSet(), waitsFor);
        Assert.Contains(service.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
    }

    [Fact]
    public async Task SecretsAreSecretParameters()
    {
        var model = await BuildModelAsync();

        var parameters = model.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        Assert.True(parameters["postgres-password"].Secret);
        Assert.True(parameters["minio-password"].Secret);
    }
}
