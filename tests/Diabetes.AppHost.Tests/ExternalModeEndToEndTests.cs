using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Diabetes.AppHost.Tests;

/// <summary>
/// The whole platform through the AppHost in external mode: the real PostgreSQL and S3 server of the test run, the
/// MLflow double as the existing MLflow, the four services started by Aspire's orchestrator (no container runtime),
/// the DAG files replayed against them, and the web page in Debian's Chromium.
/// </summary>
public sealed class ExternalModeEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Services = ["ingest", "trainer", "inference", "web"];
    private MlflowServerDouble _mlflow = null!;
    private OtlpTraceCollector _traces = null!;
    private DistributedApplication _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _mlflow = await MlflowServerDouble.StartAsync();
        _traces = await OtlpTraceCollector.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Diabetes_AppHost>(
        [
            "Infrastructure:Mode=External",
            $"ConnectionStrings:rawdata={await TestServers.CreateDatabaseAsync("rawdata")}",
            $"ConnectionStrings:cleandata={await TestServers.CreateDatabaseAsync("cleandata")}",
            $"ConnectionStrings:monitoring={await TestServers.CreateDatabaseAsync("monitoring")}",
            $"ConnectionStrings:minio={TestServers.S3ConnectionString}",
            $"Parameters:mlflow-url={_mlflow.BaseAddress}",
            $"Parameters:dataset-source={TestData.DatasetZip}",
        ]);
        foreach (var service in Services)
        {
            // Traces to this test's collector, exported every 200 ms.
            builder.CreateResourceBuilder<ProjectResource>(service)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", _traces.Endpoint.ToString().TrimEnd('/'))
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200");
        }

        // A quick sweep (the two logistic regressions) keeps five trainings on the whole dataset within a few minutes.
        builder.CreateResourceBuilder<ProjectResource>("trainer").WithEnvironment("Training__Algorithms", "LbfgsLogisticRegression");
        builder.CreateResourceBuilder<ProjectResource>("inference").WithEnvironment("Serving__RefreshInterval", "00:00:01");

        _app = await builder.BuildAsync();
        // Four services start at once, each migrating or checking what it needs: a wait for an event, as Poll's are.
        using var timeout = new CancellationTokenSource(Poll.Limit);
        await _app.StartAsync(timeout.Token);
        foreach (var service in Services)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(service, timeout.Token);
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [Fact]
    public async Task TheDagsTakeTheDataToAModelInProductionAndTheWebPageFollowsEachPromotionWithoutARestart()
    {
        // Arrange
        var replay = new DagReplay(new Dictionary<string, HttpClient>
        {
            ["ingest_api"] = CreateHttpClient("ingest"),
            ["trainer_api"] = CreateHttpClient("trainer"),
            ["inference_api"] = CreateHttpClient("inference"),
        }, output);
        using var inference = CreateHttpClient("inference");
        using var trainer = CreateHttpClient("trainer");
        var page = await Chromium.NewPageAsync(_browser);
        var started = Services.ToDictionary(service => service, StartedAt);

        // Act: a training scheduled before any data, and the trainer's answer about a job it never knew (as after a restart)
        var tooEarly = await replay.RunAsync("diabetes_training");
        using var unknownJob = await trainer.GetAsync("/api/trainings/4e1b0c9d2a7f");
        var unknownJobCheck = await DagFiles.CallAsync("diabetes_training", "training_finished", (int)unknownJob.StatusCode, await unknownJob.Content.ReadAsStringAsync());

        // Assert: the sensor fails at once with the job's error, and on the unknown job, instead of poking until its timeout
        Assert.Equal(TaskState.Failed, tooEarly["wait_for_training"].State);
        Assert.Contains("failed: CLEAN DATA has no train rows", tooEarly["wait_for_training"].Message);
        Assert.Equal(TaskState.UpstreamFailed, tooEarly["promote"].State);
        Assert.Equal("failed", (string?)unknownJobCheck["outcome"]);
        Assert.Contains("does not know this training job", (string?)unknownJobCheck["message"]);

        // Act: the first data run loads batch 1 and triggers a training, which puts version 1 in Production
        var firstRun = await RunWithTriggeredAsync(replay, "diabetes_data");

        // Assert: the page shows a prediction by version 1, traced from the web site into the inference API
        Assert.Equal(["diabetes_data", "diabetes_training"], firstRun.Select(r => r.DagId));
        Assert.All(firstRun, run => Assert.True(run.Tasks.All(t => t.State == TaskState.Success), run.ToString()));
        Assert.Contains("\"promoted\":true", firstRun[1]["promote"].Body);
        await WaitUntilServedAsync(inference, "1");
        await PredictAsync(page, "diabetes-readmission version 1 (");
        await Chromium.ScreenshotAsync(page, "end-to-end-version-1");
        await AssertPredictionTracedFromWebIntoInferenceAsync();

        // Act: runs 2 to 5 load the other batches, each training on more rows; run 6 finds nothing left
        var laterRuns = new List<IReadOnlyList<DagRun>>();
        for (var run = 2; run <= 5; run++)
        {
            laterRuns.Add(await RunWithTriggeredAsync(replay, "diabetes_data"));
        }

        using var ingest = CreateHttpClient("ingest");
        var statusBefore = await ingest.GetStringAsync("/api/dataset/status");
        var lastRun = await RunWithTriggeredAsync(replay, "diabetes_data");
        var statusAfter = await ingest.GetStringAsync("/api/dataset/status");

        // Assert: five batches, then a run that found nothing to load or clean, changed nothing and triggered nothing
        Assert.All(laterRuns, runs => Assert.Equal(["diabetes_data", "diabetes_training"], runs.Select(r => r.DagId)));
        Assert.All(laterRuns.SelectMany(r => r), run => Assert.True(run.Tasks.All(t => t.State == TaskState.Success), run.ToString()));
        Assert.Equal([2, 3, 4, 5], laterRuns.Select(r => JsonDocument.Parse(r[0]["load_next_batch"].Body!).RootElement.GetProperty("batchNumber").GetInt32()));
        var nothingLeft = Assert.Single(lastRun);
        Assert.True(nothingLeft.Succeeded, nothingLeft.ToString());
        Assert.Equal(TaskState.Success, nothingLeft["load_next_batch"].State);
        Assert.Contains("\"batchNumber\":null", nothingLeft["load_next_batch"].Body);
        Assert.Equal(TaskState.Skipped, nothingLeft["clean"].State);
        Assert.Contains("No new rows to clean", nothingLeft["clean"].Message);
        Assert.Equal(TaskState.Skipped, nothingLeft["trigger_training"].State);
        Assert.Equal(StatusWithoutTimes(statusBefore), StatusWithoutTimes(statusAfter));

        // Assert: a later training won Production, and the page names it, served by the same inference process
        var promotions = laterRuns.Select(r => JsonDocument.Parse(r[1]["promote"].Body!).RootElement).ToArray();
        var winner = promotions.LastOrDefault(p => p.GetProperty("promoted").GetBoolean());
        Assert.True(winner.ValueKind == JsonValueKind.Object,
            $"No training on more batches beat version 1: {string.Join(" | ", promotions.Select(p => p.GetProperty("reason").GetString()))}");
        var newVersion = winner.GetProperty("production").GetProperty("version").GetString()!;
        await WaitUntilServedAsync(inference, newVersion);
        await PredictAsync(page, $"diabetes-readmission version {newVersion} (");
        await Chromium.ScreenshotAsync(page, "end-to-end-new-version");
        Assert.All(Services, service => Assert.Equal(started[service], StartedAt(service)));

        // Act: a monitoring run over the page's few predictions; then the training a monitoring run that found drift starts
        var monitoring = await RunWithTriggeredAsync(replay, "diabetes_monitoring");
        const string reason = "inputs in alert over 1,000 predictions of version 5: age (AgeYears) PSI 1.234";
        var forDrift = await replay.RunAsync("diabetes_training", new JsonObject { ["reason"] = reason });

        // Assert: too few predictions to judge drift and no outcomes: nothing triggered, the run green
        var monitoringRun = Assert.Single(monitoring);
        Assert.True(monitoringRun.Succeeded, monitoringRun.ToString());
        Assert.Equal(TaskState.Skipped, monitoringRun["trigger_training"].State);
        Assert.StartsWith("Nothing to train for: no input in alert (drift insufficient data over ", monitoringRun["decide_training"].Message);

        // Assert: the job over unchanged CLEAN DATA trained nothing, so nothing was promoted (the run green), and its
        // MLflow run keeps why it was started
        Assert.True(forDrift.Succeeded, forDrift.ToString());
        Assert.Equal(TaskState.Skipped, forDrift["wait_for_training"].State);
        Assert.Equal(TaskState.Skipped, forDrift["promote"].State);
        var job = JsonDocument.Parse(forDrift["wait_for_training"].Body!).RootElement;
        Assert.Equal((true, reason), (job.GetProperty("skipped").GetBoolean(), job.GetProperty("reason").GetString()));
        await using var mlflowServices = MlflowClients.Create(_mlflow.BaseAddress);
        var jobRun = await mlflowServices.GetRequiredService<MlflowClient>().Api.GetRunAsync(job.GetProperty("parentRunId").GetString()!, CancellationToken.None);
        Assert.Equal(reason, jobRun.Run.Data!.Tag("diabetes.trigger_reason"));
    }

    /// <summary>Replays a DAG, then each DAG its run triggered (Airflow queues them: one active run per DAG).</summary>
    private static async Task<IReadOnlyList<DagRun>> RunWithTriggeredAsync(DagReplay replay, string dagId)
    {
        var runs = new List<DagRun> { await replay.RunAsync(dagId) };
        for (var i = 0; i < runs.Count; i++)
        {
            foreach (var triggered in runs[i].Triggered)
            {
                runs.Add(await replay.RunAsync(triggered.DagId, triggered.Conf));
            }
        }

        return runs;
    }

    /// <summary>A client of a service's http endpoint, waiting for an answer as long as a step may take.</summary>
    private HttpClient CreateHttpClient(string service)
    {
        var client = _app.CreateHttpClient(service, "http");
        client.Timeout = ServiceCalls.Timeout;
        return client;
    }

    private static Task WaitUntilServedAsync(HttpClient inference, string version) =>
        Poll.UntilAsync(async () =>
        {
            using var response = await inference.GetAsync("/api/model");
            return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString() : null;
        }, served => served == version, $"the inference API to serve version {version}");

    private async Task PredictAsync(IPage page, string expectedModel)
    {
        await page.GotoAsync(_app.GetEndpoint("web", "http").ToString());
        await page.Locator("#predict").ClickAsync();
        await Assertions.Expect(page.Locator("#probability")).ToHaveTextAsync(new Regex(@"^\d{1,3}\.\d %$"));
        await Assertions.Expect(page.Locator("#model-version")).ToContainTextAsync(expectedModel);
    }

    /// <summary>
    /// A prediction's trace: the inference API's server span for <c>api/predictions</c> is the child of the web site's
    /// client span, in the same trace, as both services exported them.
    /// </summary>
    private Task AssertPredictionTracedFromWebIntoInferenceAsync() =>
        Poll.UntilAsync(() => Task.FromResult(_traces.Spans), spans => spans
                .Where(s => s is { Service: "inference", Kind: SpanKind.Server } && s.Name.Contains("api/predictions", StringComparison.Ordinal))
                .Any(server => spans.Any(client => client is { Service: "web", Kind: SpanKind.Client }
                    && client.SpanId == server.ParentSpanId && client.TraceId == server.TraceId
                    && spans.Any(page => page is { Service: "web", Kind: SpanKind.Server } && page.SpanId == client.ParentSpanId))),
            "a trace from the web page into api/predictions",
            spans => string.Join(", ", spans.Where(s => s.Service is "web" or "inference").Select(s => $"{s.Service}:{s.Kind}:{s.Name}")));

    /// <summary>When the orchestrator last started the resource's process: a restart would change it.</summary>
    private DateTime StartedAt(string resource) =>
        _app.ResourceNotifications.TryGetCurrentState(resource, out var resourceEvent) && resourceEvent.Snapshot.StartTimeStamp is { } started
            ? started
            : throw new Xunit.Sdk.XunitException($"The orchestrator reports no start time for {resource}.");

    /// <summary>The ingest status without its clock readings, which move between two reads.</summary>
    private static string StatusWithoutTimes(string status) => Regex.Replace(status, "\"[A-Za-z]*(At|Time)\":\"[^\"]*\"", "");

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _traces.DisposeAsync();
        await _mlflow.DisposeAsync();
    }
}
