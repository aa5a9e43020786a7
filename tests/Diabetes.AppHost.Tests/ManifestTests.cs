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

    [Fact]
    public void IngestGetsExactlyTheDocumentedConfigurationKeys()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "aspire-manifest.json")))!;
        var ingest = manifest["resources"]!["ingest"]!;

        var keys = ingest["env"]!.AsObject().Select(p => p.Key).ToHashSet();

        Assert.Equal("project.v0", (string?)ingest["type"]);
        Assert.Superset(new HashSet<string> { "ConnectionStrings__rawdata", "ConnectionStrings__cleandata", "ConnectionStrings__minio", "Dataset__Source" }, keys);
        Assert.DoesNotContain(keys, key => key.StartsWith("RAWDATA_", StringComparison.Ordinal) || key.StartsWith("MINIO_", StringComparison.Ordinal));
        Assert.Equal("{minio.connectionString}", (string?)ingest["env"]!["ConnectionStrings__minio"]);
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
