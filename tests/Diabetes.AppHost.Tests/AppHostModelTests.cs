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
    public async Task DeclaresTheInfrastructureAndTheIngestService()
    {
        var model = await BuildModelAsync();

        var names = model.Resources.Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "postgres", "rawdata", "cleandata", "minio", "ingest" }, names);
        Assert.IsType<PostgresServerResource>(model.Resources.Single(r => r.Name == "postgres"));
        Assert.IsType<PostgresDatabaseResource>(model.Resources.Single(r => r.Name == "rawdata"));
        Assert.IsType<MinioResource>(model.Resources.Single(r => r.Name == "minio"));
        Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "ingest"));
    }

    [Fact]
    public async Task IngestWaitsForWhatItReferences()
    {
        var model = await BuildModelAsync();
        var ingest = model.Resources.Single(r => r.Name == "ingest");

        var waitsFor = ingest.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "rawdata", "cleandata", "minio" }, waitsFor);
        Assert.Contains(ingest.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
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
