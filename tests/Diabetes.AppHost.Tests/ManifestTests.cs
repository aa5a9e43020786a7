using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Diabetes.Testing;

namespace Diabetes.AppHost.Tests;

public class ManifestTests
{
    [Fact]
    public async Task CommittedManifestMatchesWhatTheAppHostPublishes()
    {
        // Arrange: publish beside the committed manifest, so that project paths come out relative to the same folder
        var root = TestData.RepositoryRoot;
        var published = Path.Combine(root, $".aspire-manifest-{Guid.NewGuid():N}.json");
        var appHost = Path.Combine(AppContext.BaseDirectory, "Diabetes.AppHost.dll");
        try
        {
            // Act
            var publisher = await TestProcess.RunAsync("dotnet", [appHost, "--publisher", "manifest", "--output-path", published],
                workingDirectory: Path.Combine(root, "Diabetes.AppHost"));
            Assert.True(publisher.ExitCode == 0, $"The manifest publisher failed: {publisher.Output}{publisher.Errors}");

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
    [InlineData("inference", new[] { "ConnectionStrings__monitoring", "services__mlflow__http__0" })]
    // A project reference also brings the https address Aspire publishes for every project.
    [InlineData("web", new[] { "services__inference__http__0", "services__inference__https__0", "services__mlflow__http__0", "services__ingest__http__0", "services__ingest__https__0" })]
    public void ServicesGetExactlyTheDocumentedConfigurationKeys(string service, string[] documented)
    {
        var resource = Manifest()[service]!;

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
        var mlflow = Manifest()["mlflow"]!;
        var env = mlflow["env"]!;

        Assert.Equal("mlflow/Dockerfile", (string?)mlflow["build"]!["dockerfile"]);
        Assert.StartsWith("postgresql+psycopg2://", (string?)env["MLFLOW_BACKEND_STORE_URI"]);
        Assert.EndsWith("/mlflowdb", (string?)env["MLFLOW_BACKEND_STORE_URI"]);
        Assert.Equal("s3://mlflow", (string?)env["MLFLOW_ARTIFACTS_DESTINATION"]);
        Assert.Contains("mlflow:*", (string?)env["MLFLOW_SERVER_ALLOWED_HOSTS"]);
        Assert.Equal(5000, (int?)mlflow["bindings"]!["http"]!["targetPort"]);
    }

    [Fact]
    public void AirflowRunsStandaloneFromAPinnedImageWithTheDagsAndConnectionsToTheServices()
    {
        var airflow = Manifest()["airflow"]!;
        var env = airflow["env"]!;

        Assert.Matches(@"^docker\.io/apache/airflow:3\.\d+\.\d+-python3\.\d+$", (string?)airflow["image"]);
        Assert.EndsWith("exec airflow standalone", (string?)airflow["args"]!.AsArray().Last());
        var dags = Assert.Single(airflow["bindMounts"]!.AsArray());
        Assert.Equal("airflow/dags", (string?)dags!["source"]);
        Assert.Equal("/opt/airflow/dags", (string?)dags["target"]);
        Assert.Equal("{ingest.bindings.http.url}", (string?)env["AIRFLOW_CONN_INGEST_API"]);
        Assert.Equal("{trainer.bindings.http.url}", (string?)env["AIRFLOW_CONN_TRAINER_API"]);
        Assert.Equal("{inference.bindings.http.url}", (string?)env["AIRFLOW_CONN_INFERENCE_API"]);
        Assert.Matches(@"^postgresql\+psycopg2://postgres:\{postgres-password\.value\}@.+/airflowdb$", (string?)env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]);
        Assert.Equal("{airflow-jwt-secret.value}", (string?)env["AIRFLOW__API_AUTH__JWT_SECRET"]);
        Assert.Equal("{airflow-admin-password.value}", (string?)env["AIRFLOW_ADMIN_PASSWORD"]);
        Assert.Equal("admin:admin", (string?)env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]);
        Assert.Contains("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", (string?)airflow["args"]!.AsArray().Last());
        // The schedules run from the start, without a click in the UI.
        Assert.Equal("False", (string?)env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"]);
        Assert.Equal("False", (string?)env["AIRFLOW__CORE__LOAD_EXAMPLES"]);
        Assert.Equal(8080, (int?)airflow["bindings"]!["http"]!["targetPort"]);
    }

    [Fact]
    public void EveryImageHasAPinnedTag()
    {
        var images = Manifest().Select(r => (string?)r.Value!["image"]).OfType<string>().ToArray();

        Assert.NotEmpty(images);
        Assert.All(images, image => Assert.Matches(@"^[\w.\-/]+:(?!latest$)[\w.\-]+$", image));
        Assert.DoesNotContain(images, image => image.Contains("slim", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryServiceProjectNamesItsContainerImage()
    {
        // dotnet publish -t:PublishContainer and aspirate build the services' images under these names.
        var projects = Manifest().Where(r => (string?)r.Value!["type"] == "project.v0").ToArray();

        Assert.Equal(4, projects.Length);
        foreach (var (name, project) in projects)
        {
            var csproj = XDocument.Load(Path.Combine(TestData.RepositoryRoot, (string)project!["path"]!));
            Assert.Equal($"diabetes-{name}", csproj.Descendants("ContainerRepository").Single().Value);
        }
    }

    private static JsonObject Manifest() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "aspire-manifest.json")))!["resources"]!.AsObject();
}
