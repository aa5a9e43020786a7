using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Diabetes.Core.Storage;
using Diabetes.Testing;

namespace Diabetes.Deployment.Tests;

/// <summary>
/// <c>mlflow/entrypoint.sh</c>, the MLflow container's first process, over a stand-in <c>mlflow</c> command that
/// behaves as the real <c>mlflow server</c> 3.x does (children that hold the port and outlive it, one of them deaf to
/// TERM), with the real S3 server of the tests for its bucket. Whatever happens to the server, one fresh server
/// answers afterwards (or, after TERM, none) and no process of an earlier one is left.
/// </summary>
public sealed class MlflowEntrypointTests
{
    /// <summary>
    /// The command killed (its children keep the port, as the real server's uvicorn does), or the process that holds
    /// the port (the command then ends, with 0 as MLflow 3.12's does, and leaves the job runner behind).
    /// </summary>
    [Theory]
    [InlineData(nameof(ServerProcesses.Command), "killed by signal 9", 2)]
    [InlineData(nameof(ServerProcesses.Web), "exit code 0", 1)]
    public async Task AKilledServerIsReplacedByOneFreshServer(string killed, string cause, int left)
    {
        // Arrange
        using var entrypoint = await EntrypointRun.StartAsync();
        var first = await entrypoint.WaitForNewServerAsync();

        // Act
        Signal("KILL", killed == nameof(ServerProcesses.Command) ? first.Command : first.Web);
        var second = await entrypoint.WaitForNewServerAsync();

        // Assert: what was left of the first was ended, the job runner, deaf to TERM, by KILL
        Assert.All(first.All, pid => Assert.False(IsAlive(pid), $"process {pid} of the first server is still running"));
        Assert.All(second.All, pid => Assert.True(IsAlive(pid)));
        Assert.Contains($"mlflow server stopped ({cause})", entrypoint.Log);
        Assert.Contains($"stopping {left} processes of the server's session {first.Command}", entrypoint.Log);
        Assert.Contains($"killing 1 processes still running after 3 s: {first.Jobs}", entrypoint.Log);
    }

    [Fact]
    public async Task TermStopsTheWholeServerAndStartsNoOther()
    {
        // Arrange
        using var entrypoint = await EntrypointRun.StartAsync();
        var server = await entrypoint.WaitForNewServerAsync();

        // Act
        Signal("TERM", entrypoint.ProcessId);
        var exitCode = await entrypoint.WaitForExitAsync();

        // Assert: the web server stopped on TERM, the job runner on the KILL that followed the stop timeout.
        Assert.Equal(0, exitCode);
        Assert.All(server.All, pid => Assert.False(IsAlive(pid), $"process {pid} outlived the entrypoint"));
        Assert.Single(entrypoint.Servers());
        Assert.False(await entrypoint.AnswersAsync(), "something still answers on the server's port");
        Assert.Contains($"killing 1 processes still running after 3 s: {server.Jobs}", entrypoint.Log);
        Assert.EndsWith("mlflow-entrypoint: stopped", entrypoint.Log.TrimEnd());
    }

    private static void Signal(string signal, int processId)
    {
        using var kill = Process.Start("kill", [$"-{signal}", processId.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Whether the process runs: it exists and is no zombie waiting for its parent to collect it.</summary>
    private static bool IsAlive(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The three processes one start of the stand-in made, as it wrote them down.</summary>
    private sealed record ServerProcesses(int Command, int Web, int Jobs)
    {
        public int[] All => [Command, Web, Jobs];
    }

    /// <summary>One run of the entrypoint, on a free port, with its own bucket and its own stand-in state folder.</summary>
    private sealed class EntrypointRun : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();
        private readonly DirectoryInfo _state;
        private readonly int _port;
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
        private readonly HashSet<int> _seenCommands = [];

        private EntrypointRun(Process process, DirectoryInfo state, int port)
        {
            _process = process;
            _state = state;
            _port = port;
        }

        public int ProcessId => _process.Id;

        public string Log
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        public static async Task<EntrypointRun> StartAsync()
        {
            var state = Directory.CreateTempSubdirectory("diabetes-mlflow-entrypoint-");
            var port = LoopbackHttpServer.FreePort();
            var s3 = MinioConnection.Parse(TestServers.S3ConnectionString);
            var standIn = Path.Combine(TestData.RepositoryRoot, "tests", "Diabetes.Deployment.Tests", "MlflowStandIn");
            await LinkPythonWithBoto3Async(state.FullName);
            var start = new ProcessStartInfo("sh", [Path.Combine(TestData.RepositoryRoot, "mlflow", "entrypoint.sh")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment =
                {
                    ["PATH"] = $"{standIn}:{state.FullName}:{Environment.GetEnvironmentVariable("PATH")}",
                    ["MLFLOW_STANDIN_STATE"] = state.FullName,
                    ["MLFLOW_PORT"] = port.ToString(),
                    ["MLFLOW_STOP_TIMEOUT"] = "3",
                    ["MLFLOW_BACKEND_STORE_URI"] = "postgresql+psycopg2://mlflow@127.0.0.1:5432/mlflowdb",
                    ["MLFLOW_ARTIFACTS_DESTINATION"] = $"s3://mlflow-entrypoint-{Guid.NewGuid():N}",
                    ["MLFLOW_S3_ENDPOINT_URL"] = s3.Endpoint.ToString(),
                    ["AWS_ACCESS_KEY_ID"] = s3.AccessKey,
                    ["AWS_SECRET_ACCESS_KEY"] = s3.SecretKey,
                    ["MLFLOW_SERVER_ALLOWED_HOSTS"] = "localhost:*,127.0.0.1:*",
                },
            };
            var run = new EntrypointRun(Process.Start(start)!, state, port);
            run._process.OutputDataReceived += (_, line) => run.Append(line.Data);
            run._process.ErrorDataReceived += (_, line) => run.Append(line.Data);
            run._process.BeginOutputReadLine();
            run._process.BeginErrorReadLine();
            return run;
        }

        /// <summary>
        /// Waits for a start of the stand-in not seen before whose web server answers <c>/health</c> on the port:
        /// a server that is really the one serving.
        /// </summary>
        public async Task<ServerProcesses> WaitForNewServerAsync()
        {
            var server = await Poll.UntilAsync(async () =>
            {
                Assert.False(_process.HasExited, $"the entrypoint ended:\n{Log}");
                var started = Servers().FirstOrDefault(s => !_seenCommands.Contains(s.Command));
                return started is not null && await AnsweringProcessAsync() == started.Web ? started : null;
            }, started => started is not null, "a new server answering /health", _ => Log);
            _seenCommands.Add(server!.Command);
            return server;
        }

        public async Task<int> WaitForExitAsync()
        {
            using var timeout = new CancellationTokenSource(Poll.Limit);
            await _process.WaitForExitAsync(timeout.Token);
            _process.WaitForExit(); // the rest of its output
            return _process.ExitCode;
        }

        public async Task<bool> AnswersAsync() => await AnsweringProcessAsync() is not null;

        public IReadOnlyList<ServerProcesses> Servers() =>
            _state.GetFiles("server-*.json")
                .Select(file => JsonSerializer.Deserialize<ServerProcesses>(File.ReadAllText(file.FullName), JsonSerializerOptions.Web)!)
                .ToList();

        public void Dispose()
        {
            foreach (var pid in Servers().SelectMany(s => s.All).Append(_process.Id).Where(IsAlive))
            {
                Signal("KILL", pid);
            }

            _process.Dispose();
            _http.Dispose();
            _state.Delete(recursive: true);
        }

        private async Task<int?> AnsweringProcessAsync()
        {
            try
            {
                using var response = await _http.GetAsync($"http://127.0.0.1:{_port}/health");
                return response.IsSuccessStatusCode && response.Headers.TryGetValues("X-Process-Id", out var ids)
                    ? int.Parse(ids.Single())
                    : null;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                // Nothing listens, or the server is too busy to answer yet: read again.
                return null;
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_log)
            {
                _log.AppendLine(line);
            }
        }

        /// <summary>
        /// The entrypoint creates its bucket with <c>python</c> and boto3, as the MLflow image has them; here the
        /// Python that runs the S3 server has boto3 (moto needs it), found as <c>python3</c> on the PATH.
        /// </summary>
        private static async Task LinkPythonWithBoto3Async(string folder)
        {
            var found = await TestProcess.RunAsync("python3", ["-c", "import sys, boto3; print(sys.executable)"]);
            Assert.True(found.ExitCode == 0, $"python3 on the PATH has no boto3 (it comes with moto): {found.Errors}");
            File.CreateSymbolicLink(Path.Combine(folder, "python"), found.Output.Trim());
        }
    }
}
