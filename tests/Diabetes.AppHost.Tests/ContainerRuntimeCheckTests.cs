using Diabetes.Testing;

namespace Diabetes.AppHost.Tests;

public class ContainerRuntimeCheckTests
{
    [Fact]
    public async Task ContainerModeWithoutARunningRuntimeStopsAtOnceAndShowsTheExternalModeCommand()
    {
        // Arrange: Docker, pointed at a socket where no engine listens, whatever this machine runs; a private home
        // for the user secrets the AppHost writes, and a marker that every process it starts inherits.
        var home = Directory.CreateTempSubdirectory("diabetes-apphost-home-");
        var marker = Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["ASPIRE_CONTAINER_RUNTIME"] = "docker",
            ["DOCKER_HOST"] = $"unix://{home.FullName}/no-engine.sock",
            ["HOME"] = home.FullName,
            ["DIABETES_TEST_MARKER"] = marker,
        };
        var appHost = Path.Combine(AppContext.BaseDirectory, "Diabetes.AppHost.dll");

        try
        {
            // Act: without the check this run would never end; the bound only turns such a hang into a failure.
            using var hang = new CancellationTokenSource(Poll.Limit);
            var run = await TestProcess.RunAsync("dotnet", [appHost], workingDirectory: Path.Combine(TestData.RepositoryRoot, "Diabetes.AppHost"),
                environment: environment, cancellationToken: hang.Token);

            // Assert
            Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}:\n{run.Output}\n{run.Errors}");
            Assert.Contains("the container runtime 'Docker' is not running (", run.Errors);
            Assert.Contains("dotnet run --project Diabetes.AppHost -- Infrastructure:Mode=External", run.Errors);
            Assert.Contains("Parameters:mlflow-url=", run.Errors);
            Assert.DoesNotContain("Hosting failed to start", run.Output + run.Errors);
            Assert.Empty(ProcessesWithMarker(marker));
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    /// <summary>The processes still running whose environment holds the marker: what the AppHost left behind.</summary>
    private static List<int> ProcessesWithMarker(string marker) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Where(name =>
            {
                try
                {
                    return File.ReadAllText($"/proc/{name}/environ").Contains($"DIABETES_TEST_MARKER={marker}", StringComparison.Ordinal);
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                {
                    return false;
                }
            })
            .Select(name => int.Parse(name!))
            .ToList();
}
