using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Diabetes.AppHost.Tests;

public class ManifestTests
{
    [Fact]
    public async Task CommittedManifestMatchesWhatTheAppHostPublishes()
    {
        // Arrange: publish beside the committed manifest, so that project paths come out relative to the same folder
        var root = RepositoryRoot();
        var published = Path.Combine(root, $".aspire-manifest-{Guid.NewGuid():N}.json");
        var appHost = Path.Combine(AppContext.BaseDirectory, "Diabetes.AppHost.dll");
        try
        {
            // Act
            using var process = Process.Start(new ProcessStartInfo("dotnet", [appHost, "--publisher", "manifest", "--output-path", published])
            {
                WorkingDirectory = Path.Combine(root, "Diabetes.AppHost"),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"The manifest publisher failed: {await output}{errors}");

            // Assert
            Assert.True(File.ReadAllText(Path.Combine(root, "aspire-manifest.json")) == File.ReadAllText(published),
                "aspire-manifest.json is stale: run `dotnet run --project Diabetes.AppHost -- --publisher manifest --output-path $PWD/aspire-manifest.json` and commit it.");
        }
        finally
        {
            File.Delete(published);
        }
    }

    [Theory]
    [InlineData("ingest", new[] { "ConnectionStrings__rawdata", "ConnectionStrings__cleandata", "ConnectionStrings__minio", "Dataset__Source" })]
    [InlineData("trainer", new[] { "ConnectionStrings__cleandata", "services__mlflow__http__0" })]
    [InlineData("inference", new[] { "services__mlflow__http__0" })]
    // A project reference also brings the https address Aspire publishes for every project.
    [InlineData("web", new[] { "services__inference__http__0", "services__inference__https__0", "services__mlflow__http__0", "services__ingest__http__0", "services__ingest__https__0" })]
    public void ServicesGetExactlyTheDocumentedConfigurationKeys(string service, string[] documented)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "aspire-manifest.json")))!;
        var resource = manifest["resources"]![service]!;

        var keys = resource["env"]!.AsObject().Select(p => p.Key)
            .Where(k => !k.StartsWith("OTEL_", StringComparison.Ordinal) && !k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) && k != "HTTP_PORTS")
            .ToHashSet();

        // project.v0: the form aspirate reads (an Aspire compute environment would switch it to project.v1)
        Assert.Equal("project.v0", (string?)resource["type"]);
        Assert.Equal(documented.ToHashSet(), keys);
    }

    [Fact]
    public void MlflowIsBuiltFromItsDockerfileWithPostgresMetadataAndS3Artifacts()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "aspire-manifest.json")))!;
        var mlflow = manifest["resources"]!["mlflow"]!;
        var env = mlflow["env"]!;

        Assert.Equal("mlflow/Dockerfile", (string?)mlflow["build"]!["dockerfile"]);
        Assert.StartsWith("postgresql+psycopg2://", (string?)env["MLFLOW_BACKEND_STORE_URI"]);
        Assert.EndsWith("/mlflowdb", (string?)env["MLFLOW_BACKEND_STORE_URI"]);
        Assert.Equal("s3://mlflow", (string?)env["MLFLOW_ARTIFACTS_DESTINATION"]);
        Assert.Contains("mlflow:*", (string?)env["MLFLOW_SERVER_ALLOWED_HOSTS"]);
        Assert.Equal(5000, (int?)mlflow["bindings"]!["http"]!["targetPort"]);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Diabetes.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("Diabetes.sln is not above the test binaries.");
    }
}
