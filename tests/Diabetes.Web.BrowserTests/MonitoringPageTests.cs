extern alias inference;
extern alias web;

using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using inference::Diabetes.InferenceApi.Apis;
using inference::Diabetes.InferenceApi.Monitoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static System.FormattableString;

namespace Diabetes.Web.BrowserTests;

/// <summary>
/// The monitoring page in Chromium, against an inference API with a prediction log of its own on the real PostgreSQL:
/// empty at first, then with the traffic of two versions, then with outcomes; and what it says when there is no log,
/// no model or no inference service. The figures on the page are checked against the API's answers.
/// </summary>
[Collection(nameof(WebSystem))]
public class MonitoringPageTests(WebSystem system)
{
    /// <summary>Drift judged from this many predictions, live quality from this many outcomes (lowered for the test).</summary>
    private const int MinimumRows = 200;
    private const int MinimumOutcomes = 100;

    [Fact]
    public async Task ThePageShowsTrafficDriftAndLiveQualityPerVersionOnceThereArePredictionsAndOutcomes()
    {
        // Arrange: version 1 in Production with a test ROC-AUC in its run, an inference API with an empty log, the site
        await using var monitored = await MonitoredSystem.StartAsync(system);
        var page = await Chromium.NewPageAsync(system.Browser, new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await page.GotoAsync(new Uri(monitored.Site.BaseAddress, "/monitoring").ToString());

        // Assert: nothing logged yet, and each part says what it needs
        await Assertions.Expect(page.Locator("#served")).ToHaveTextAsync("Served now: diabetes-readmission version 1.");
        await Assertions.Expect(page.Locator("#no-traffic")).ToContainTextAsync("No prediction was logged in the last 24 hours.");
        await Assertions.Expect(page.Locator("#drift-empty")).ToContainTextAsync($"No prediction of version 1 in this window: drift is judged from {MinimumRows} predictions on");
        await Assertions.Expect(page.Locator("#no-outcomes")).ToContainTextAsync($"Not enough outcomes yet: 0 are recorded, and live figures are given from {MinimumOutcomes} on (Monitoring:MinimumOutcomes).");
        Assert.Equal(0, await page.Locator("svg").CountAsync());
        await Chromium.ScreenshotAsync(page, "monitoring-empty");

        // Act: version 1 answers 300 encounters, then version 2 is promoted and answers 100
        var first = await monitored.PredictAsync(TestEncounters.All.Skip(10_000).Take(300));
        await monitored.PromoteFastTreeAsync();
        var second = await monitored.PredictAsync(TestEncounters.All.Skip(10_300).Take(100));
        var traffic = await monitored.WaitForTrafficAsync(400);
        await page.ReloadAsync();

        // Assert: both versions' traffic as the API counts it, in the table and in both charts
        Assert.Equal(["version 1: 300", "version 2: 100"], traffic.Versions.Select(v => $"version {v.Version}: {v.Predictions}"));
        foreach (var version in traffic.Versions)
        {
            var row = page.Locator($"#traffic tr[data-version='{version.Version}'] td");
            await Assertions.Expect(row).ToHaveTextAsync([
                version.Version == "2" ? "2 (served)" : "1", Invariant($"{version.Predictions:N0}"), Invariant($"{version.PositiveRate:P1}"), $"{version.Hours.Count}"]);
        }

        Assert.Equal(first.Average(p => p.ReadmittedWithin30Days ? 1.0 : 0.0), traffic.Versions[0].PositiveRate, 12);
        Assert.Equal(second.Average(p => p.ReadmittedWithin30Days ? 1.0 : 0.0), traffic.Versions[1].PositiveRate, 12);
        foreach (var chart in new[] { "#chart-predictions", "#chart-positive-rate" })
        {
            await Assertions.Expect(page.Locator($"{chart} svg")).ToContainTextAsync("version 1");
            await Assertions.Expect(page.Locator($"{chart} svg")).ToContainTextAsync("version 2");
            await Assertions.Expect(page.Locator(chart)).ToHaveAttributeAsync("aria-label", new Regex("version 1, 300 predictions"));
        }

        // Assert: the served version 2 is shown by default, with fewer predictions than drift judges, and says so
        var drift2 = await monitored.GetAsync<DriftResponse>("/api/monitoring/drift?version=2");
        Assert.Equal((100L, "insufficient data"), (drift2.Rows, drift2.Status));
        await Assertions.Expect(page.Locator("#drift-empty")).ToContainTextAsync($"Insufficient data: 100 predictions of version 2 in this window, and drift is judged from {MinimumRows} on");
        await Assertions.Expect(page.Locator("#chart-psi svg")).ToContainTextAsync("PSI per input, version 2 (100 predictions)");

        // Act: version 1 chosen in the picker
        await page.Locator("#version").SelectOptionAsync("1");
        await page.Locator("#show").ClickAsync();

        // Assert: version 1's drift, judged, as the API answers it: the summary and every input's bar
        await Assertions.Expect(page.Locator("h2").Nth(1)).ToHaveTextAsync("Drift of version 1");
        var drift1 = await monitored.GetAsync<DriftResponse>("/api/monitoring/drift?version=1");
        Assert.Equal(300L, drift1.Rows);
        Assert.NotEqual("insufficient data", drift1.Status);
        await Assertions.Expect(page.Locator("#drift-empty")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#drift-rows")).ToHaveTextAsync("300");
        await Assertions.Expect(page.Locator("#drift-status")).ToHaveTextAsync(drift1.Status);
        await Assertions.Expect(page.Locator("#drift-score")).ToHaveTextAsync(Invariant($"{drift1.Score!.Psi:F3} ({drift1.Score.Status})"));
        await Assertions.Expect(page.Locator("#drift-positive-rate")).ToHaveTextAsync(
            Invariant($"{drift1.PositiveRate!.Actual:P1} here, {drift1.PositiveRate.Expected:P1} on validation"));
        var psi = page.Locator("#chart-psi svg");
        await Assertions.Expect(psi).ToContainTextAsync("PSI per input, version 1 (300 predictions)");
        await Assertions.Expect(psi).ToContainTextAsync("warn line, 0.100");
        await Assertions.Expect(psi).ToContainTextAsync("alert line, 0.250");
        var svg = await psi.InnerHTMLAsync();
        Assert.All(drift1.Inputs, input => Assert.Matches(Invariant($@">\s*{input.Psi:F3}\s*<"), svg));
        var highest = drift1.Inputs.MaxBy(i => i.Psi)!;
        await Assertions.Expect(page.Locator("#chart-psi")).ToHaveAttributeAsync("aria-label",
            new Regex(Regex.Escape(Invariant($"highest {highest.Name} {highest.Psi:F3} ({highest.Status})"))));
        await Assertions.Expect(page.Locator("#no-outcomes")).ToContainTextAsync($"0 are recorded, and live figures are given from {MinimumOutcomes} on");
        await Chromium.ScreenshotAsync(page, "monitoring-traffic");

        // Act: the true outcomes of version 1's predictions are reported
        await monitored.ReportOutcomesAsync(first, TestEncounters.All.Skip(10_000).Take(300).Select(e => e.Input.Label).ToArray());
        await page.ReloadAsync();

        // Assert: live ROC-AUC with its interval beside the test and validation ROC-AUC, as the API answers them
        var performance = await monitored.GetAsync<PerformanceResponse>("/api/monitoring/performance?version=1");
        Assert.Equal((300, "ok"), (performance.Outcomes, performance.Status));
        var auc = performance.RocAuc!;
        await Assertions.Expect(page.Locator("#outcomes")).ToHaveTextAsync("300 of its predictions have outcomes.");
        await Assertions.Expect(page.Locator("#no-outcomes")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#performance-roc-auc td")).ToHaveTextAsync([
            Invariant($"{auc.Value:F3} [{auc.Low:F3}, {auc.High:F3}]"), Invariant($"{monitored.TestRocAuc:F3}"), Invariant($"{performance.Validation["roc_auc"]:F3}")]);
        Assert.Equal(monitored.TestRocAuc, performance.Test["roc_auc"], 12);
        await Assertions.Expect(page.Locator("#performance-brier td").First).ToHaveTextAsync(Invariant($"{performance.Brier:F3}"));
        await Assertions.Expect(page.Locator("#auc-verdict")).ToContainTextAsync(performance.RocAucFell!.Value ? "is below the test ROC-AUC" : "is within 0.050 of the test ROC-AUC");
        await Assertions.Expect(page.Locator("#chart-roc-auc svg")).ToContainTextAsync("live (300 outcomes)");
        await Assertions.Expect(page.Locator("#chart-roc-auc svg")).ToContainTextAsync(Invariant($"{auc.Value:F3}"));
        await Chromium.ScreenshotAsync(page, "monitoring-outcomes");

        // Act: the last seven days
        await page.Locator("#window").SelectOptionAsync("7d");
        await page.Locator("#show").ClickAsync();

        // Assert: seven days of whole hours, version 1 still chosen, and the traffic the API counts in them
        await Assertions.Expect(page.Locator("#window")).ToHaveValueAsync("7d");
        await Assertions.Expect(page.Locator("#version")).ToHaveValueAsync("1");
        var shown = Regex.Match((await page.Locator("#window-shown").TextContentAsync())!, "^(.+) UTC to (.+) UTC, by hour.$");
        var (from, to) = (Utc(shown.Groups[1].Value), Utc(shown.Groups[2].Value));
        Assert.Equal((TimeSpan.FromDays(7), 0), (to - from, to.Minute));
        var week = await monitored.GetAsync<TrafficResponse>($"/api/monitoring/traffic?from={Uri.EscapeDataString(Invariant($"{from:O}"))}&to={Uri.EscapeDataString(Invariant($"{to:O}"))}");
        Assert.Equal((from, to, 400L), (week.From, week.To, week.Predictions));
        await Assertions.Expect(page.Locator("#traffic tbody tr")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task EveryPageLinksTheMonitoringPageWhichSaysWhenThePredictionLogIsOff()
    {
        // Arrange: the shared system, whose inference API has no log
        var page = await system.OpenAsync("/");

        // Act
        await MonitoringLink(page).ClickAsync();

        // Assert: the version served, and why nothing is monitored
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Monitoring");
        await Assertions.Expect(page.Locator("#served")).ToHaveTextAsync("Served now: diabetes-readmission version 1.");
        await Assertions.Expect(page.Locator("#log-problem")).ToContainTextAsync("The prediction log cannot be read, so there is nothing to monitor. The prediction log is off.");
        await Assertions.Expect(page.Locator("#log-problem")).ToContainTextAsync("ConnectionStrings:monitoring is not set");
        await Chromium.ScreenshotAsync(page, "monitoring-log-off");

        // Assert: the other pages link it too
        foreach (var path in new[] { "/models", "/data", "/monitoring" })
        {
            var other = await system.OpenAsync(path);
            await Assertions.Expect(MonitoringLink(other)).ToHaveAttributeAsync("href", "/Monitoring");
            await other.CloseAsync();
        }
    }

    [Fact]
    public async Task WithNoModelInProductionThePageSaysSoAndThatNothingWasLogged()
    {
        // Arrange: an inference API with a log whose MLflow holds no model, and the site pointed at it
        await using var emptyMlflow = await MlflowServerDouble.StartAsync();
        await using var inference = new ServiceHost<inference::Program>(new Dictionary<string, string?>
        {
            ["services:mlflow:http:0"] = emptyMlflow.BaseAddress.ToString(),
            ["ConnectionStrings:monitoring"] = await TestServers.CreateDatabaseAsync("monitoring"),
        });
        await using var site = new ServiceHost<web::Program>(system.WebSettings(inference.BaseAddress));
        var page = await Chromium.NewPageAsync(system.Browser);

        // Act
        await page.GotoAsync(new Uri(site.BaseAddress, "/monitoring").ToString());

        // Assert
        await Assertions.Expect(page.Locator("#no-model")).ToContainTextAsync("No model is served right now, so nothing new is predicted or logged.");
        await Assertions.Expect(page.Locator("#no-traffic")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#no-version")).ToContainTextAsync("none is served, and none answered in this window");
        await Chromium.ScreenshotAsync(page, "monitoring-no-model");
    }

    [Fact]
    public async Task WhenTheInferenceServiceCannotBeReachedThePageSaysSo()
    {
        // Arrange: the site pointed at an inference API that is not there
        await using var site = new ServiceHost<web::Program>(system.WebSettings(new Uri("http://127.0.0.1:9")));
        var page = await Chromium.NewPageAsync(system.Browser);

        // Act
        await page.GotoAsync(new Uri(site.BaseAddress, "/monitoring").ToString());

        // Assert
        await Assertions.Expect(page.Locator("#inference-down")).ToHaveTextAsync(
            "The inference service cannot be reached right now, so there is nothing to show. Try again shortly.");
        await Assertions.Expect(page.Locator("nav")).ToContainTextAsync("Monitoring");
        await Chromium.ScreenshotAsync(page, "monitoring-api-down");
    }

    private static ILocator MonitoringLink(IPage page) => page.Locator("nav").GetByRole(AriaRole.Link, new() { Name = "Monitoring" });

    /// <summary>A time as the page writes it (minutes, UTC).</summary>
    private static DateTimeOffset Utc(string time) =>
        DateTimeOffset.ParseExact(time, "yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

    /// <summary>
    /// An MLflow double with version 1 (a logistic regression with a test ROC-AUC in its run) in Production, an inference
    /// API serving it with a prediction log in a fresh database, and the site in front of it.
    /// </summary>
    private sealed class MonitoredSystem : IAsyncDisposable
    {
        private readonly MlflowServerDouble _mlflow;
        private readonly ServiceProvider _mlflowClients;
        private readonly ServiceHost<inference::Program> _inference;
        private readonly HttpClient _client;

        private MonitoredSystem(MlflowServerDouble mlflow, ServiceProvider mlflowClients, ServiceHost<inference::Program> inference, ServiceHost<web::Program> site, double testRocAuc)
        {
            (_mlflow, _mlflowClients, _inference, Site, TestRocAuc) = (mlflow, mlflowClients, inference, site, testRocAuc);
            _client = new HttpClient { BaseAddress = inference.BaseAddress, Timeout = ServiceCalls.Timeout };
        }

        public ServiceHost<web::Program> Site { get; }

        /// <summary>Version 1's ROC-AUC on encounters it neither trained on nor is asked about here, logged as its <c>test_roc_auc</c>.</summary>
        public double TestRocAuc { get; }

        private MlflowClient Mlflow => _mlflowClients.GetRequiredService<MlflowClient>();

        public static async Task<MonitoredSystem> StartAsync(WebSystem system)
        {
            var mlflow = await MlflowServerDouble.StartAsync();
            var clients = MlflowClients.Create(mlflow.BaseAddress);
            var client = clients.GetRequiredService<MlflowClient>();
            var version = await TestModels.PublishAsync(client, TestModels.Logistic);
            var test = TestEncounters.All.Skip(11_000).Take(1_000).Select(e => e.Input).ToArray();
            var testRocAuc = BinaryMetrics.AreaUnderRoc(TestModels.Logistic.Model.Predict(test), test.Select(i => i.Label).ToArray());
            await client.LogAsync(version.RunId!, metrics: new Dictionary<string, double> { ["test_roc_auc"] = testRocAuc }, cancellationToken: CancellationToken.None);

            var inference = new ServiceHost<inference::Program>(new Dictionary<string, string?>
            {
                ["services:mlflow:http:0"] = mlflow.BaseAddress.ToString(),
                ["Serving:RefreshInterval"] = "00:00:00.5",
                ["ConnectionStrings:monitoring"] = await TestServers.CreateDatabaseAsync("monitoring"),
                ["Monitoring:MinimumRows"] = $"{MinimumRows}",
                ["Monitoring:MinimumOutcomes"] = $"{MinimumOutcomes}",
            });
            var site = new ServiceHost<web::Program>(system.WebSettings(inference.BaseAddress));
            var monitored = new MonitoredSystem(mlflow, clients, inference, site, testRocAuc);
            await monitored.WaitForVersionAsync("1");
            return monitored;
        }

        public async Task<T> GetAsync<T>(string path) => (await _client.GetFromJsonAsync<T>(path))!;

        /// <summary>The answers to one batch of <paramref name="encounters"/>.</summary>
        public async Task<PredictionResponse[]> PredictAsync(IEnumerable<(RawEncounter Raw, ModelInput Input)> encounters)
        {
            using var response = await _client.PostAsJsonAsync("/api/predictions/batch", new JsonArray([.. encounters.Select(e => (JsonNode)TestEncounters.Request(e.Raw))]));
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<PredictionResponse[]>())!;
        }

        /// <summary>Publishes the boosted tree model as version 2 in Production, and waits until it is served.</summary>
        public async Task PromoteFastTreeAsync() => await WaitForVersionAsync((await TestModels.PublishAsync(Mlflow, TestModels.FastTree)).Version);

        /// <summary>The traffic of the last 24 hours once <paramref name="predictions"/> are logged.</summary>
        public Task<TrafficResponse> WaitForTrafficAsync(long predictions) =>
            Poll.UntilAsync(() => GetAsync<TrafficResponse>("/api/monitoring/traffic"), traffic => traffic.Predictions == predictions,
                $"{predictions} predictions to be logged");

        public async Task ReportOutcomesAsync(IReadOnlyList<PredictionResponse> predictions, IReadOnlyList<bool> readmitted)
        {
            using var response = await _client.PostAsJsonAsync("/api/outcomes", predictions.Zip(readmitted, (p, r) => new OutcomeItemRequest(p.PredictionId, r)).ToArray());
            response.EnsureSuccessStatusCode();
            Assert.Equal(predictions.Count, (await response.Content.ReadFromJsonAsync<OutcomesResponse>())!.Recorded);
        }

        private Task WaitForVersionAsync(string version) =>
            Poll.UntilAsync(async () =>
            {
                using var response = await _client.GetAsync("/api/model");
                return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonObject>())!["version"]!.GetValue<string>() : null;
            }, served => served == version, $"version {version} to be served");

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await Site.DisposeAsync();
            await _inference.DisposeAsync();
            await _mlflowClients.DisposeAsync();
            await _mlflow.DisposeAsync();
        }
    }
}
