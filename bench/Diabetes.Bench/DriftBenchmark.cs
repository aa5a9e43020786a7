extern alias inference;

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;
using inference::Diabetes.InferenceApi.Monitoring;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Diabetes.Bench;

/// <summary>
/// The drift query over 1,000,000 logged predictions. The inference API fills the log itself, in this process and with a
/// clock of its own: batches of 1,000 encounters of the test split go through its batch endpoint, and its writer logs
/// them and counts them for drift as in service. The clock moves 23 h / 1,000,000 each time it is read, so the
/// predictions' times spread over the 23 hours before the fill, inside the default window (the last 24 h) of queries made
/// in the next hour. Then the inference API as a process answers <c>GET /api/monitoring/drift</c> for the default window
/// and for seven days: cold (the first query of a freshly started process) and warm, several times each.
/// </summary>
public static class DriftBenchmark
{
    public const int Predictions = 1_000_000;

    private const int BatchSize = 1_000;
    private const int ColdStarts = 3;
    private const int WarmQueries = 10;
    private const string QueryInstance = "inference-drift";

    private static readonly TimeSpan Spread = TimeSpan.FromHours(23);
    private static readonly TimeSpan Goal = TimeSpan.FromSeconds(1);

    /// <summary>The figures of one window: each query's time in milliseconds.</summary>
    public sealed record WindowFigures(string Window, IReadOnlyList<double> ColdMs, IReadOnlyList<double> WarmMs);

    public sealed record DriftFigures(IReadOnlyList<WindowFigures> Windows)
    {
        public void PrintGoal()
        {
            var worst = Windows.SelectMany(w => w.ColdMs.Concat(w.WarmMs)).Max();
            Console.WriteLine($"  the drift query over {Predictions:N0} logged predictions in at most {Goal.TotalSeconds:G} s (the slowest of every query, cold or warm): " +
                $"{worst:F0} ms {(worst <= Goal.TotalMilliseconds ? "met" : "MISSED")}");
        }
    }

    /// <summary>
    /// <c>bench/run.sh drift</c>: the drift query alone, on a logistic regression trained and published here (the model
    /// does not change what the query reads: the counts of the same inputs' bins).
    /// </summary>
    public static async Task<DriftFigures> RunAloneAsync(BenchPlatform platform, string binDirectory, string datasetZip, string monitoring)
    {
        var (train, validation) = ServingBenchmark.Splits(datasetZip);
        var trainer = new ModelTrainer(train, validation);
        var model = trainer.Train(Candidates.All.First(c => c.Algorithm == "LbfgsLogisticRegression"));
        await using var services = MlflowClients.Create(platform.Mlflow.BaseAddress);
        var lineage = new ModelLineage(["bench"], [1, 2, 3, 4, 5], train.Count, validation.Count, "bench");
        var version = await ModelPublisher.PublishAsync(services.GetRequiredService<MlflowClient>(), model, trainer.Features, lineage);
        Console.WriteLine($"Drift: trained {model.Candidate.Name} on {train.Count:N0} rows, published as version {version.Version}");
        return await RunAsync(platform, binDirectory, datasetZip, monitoring, version.Version);
    }

    /// <param name="version">The version in Production, which the predictions are made by and the queries ask about.</param>
    public static async Task<DriftFigures> RunAsync(BenchPlatform platform, string binDirectory, string datasetZip, string monitoring, string version)
    {
        await FillAsync(platform.Mlflow.BaseAddress, monitoring, Batches(datasetZip), version);
        var to = DateTimeOffset.UtcNow;
        var windows = new List<WindowFigures>();
        foreach (var (window, query) in new[]
                 {
                     ("the default window (the last 24 h)", ""),
                     ("the last 7 days", $"?from={Uri.EscapeDataString(to.AddDays(-7).ToString("O", CultureInfo.InvariantCulture))}"),
                 })
        {
            var (cold, warm, statuses) = (new List<double>(), new List<double>(), new SortedSet<string>(StringComparer.Ordinal));
            for (var start = 0; start < ColdStarts; start++)
            {
                var api = await platform.StartInferenceAsync(binDirectory, QueryInstance, ("ConnectionStrings__monitoring", monitoring));
                await ServingBenchmark.WaitForVersionAsync(api, version);
                cold.Add(await QueryAsync(api, query, statuses));
                for (var i = 0; i < WarmQueries; i++)
                {
                    warm.Add(await QueryAsync(api, query, statuses));
                }

                await platform.StopServiceAsync(QueryInstance);
            }

            Console.WriteLine($"  drift over {window}: cold {Summary(cold)} ({ColdStarts} fresh starts); warm {Summary(warm)} ({warm.Count} queries); " +
                $"answered status {string.Join("/", statuses)}; load average {BenchPlatform.LoadAverage():F1}");
            windows.Add(new WindowFigures(window, cold, warm));
        }

        return new DriftFigures(windows);
    }

    /// <summary>
    /// 1,000,000 predictions of <paramref name="version"/> through the batch endpoint of the inference API in this
    /// process, under a clock that spreads them over the 23 hours before now; checks that every one was logged.
    /// </summary>
    private static async Task FillAsync(Uri mlflow, string monitoring, IReadOnlyList<string> batches, string version)
    {
        var clock = new ReplayClock(DateTimeOffset.UtcNow - Spread, Spread / Predictions);
        var api = new InferenceInProcess(mlflow, monitoring, clock);
        var client = api.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);
        await ServingBenchmark.WaitForVersionAsync(client, version);
        var log = api.Services.GetRequiredService<PredictionLog>();
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Predictions / BatchSize; i++)
        {
            // What is measured is the query, not the fill: the fill waits for the writer instead of letting the queue drop.
            while (log.Queued > 10 * BatchSize)
            {
                await Task.Delay(20);
            }

            using var response = await client.PostAsync("/api/predictions/batch", new StringContent(batches[i % batches.Count], Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
        }

        var answered = stopwatch.Elapsed;
        // A graceful stop writes what is still queued.
        await api.DisposeAsync();
        await using var connection = new NpgsqlConnection(monitoring);
        await connection.OpenAsync();
        var number = int.Parse(version, CultureInfo.InvariantCulture);
        await using var command = connection.CreateCommand(
            $"SELECT count(*), min(predicted_at), max(predicted_at) FROM {PredictionTable.Name} WHERE model_version = @version", ("version", number));
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (rows, first, last) = (reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2));
        await reader.CloseAsync();
        var counts = await connection.ScalarAsync<long>($"SELECT count(*) FROM {DriftCounts.Table} WHERE model_version = @version", CancellationToken.None,
            ("version", number));
        Console.WriteLine($"  drift: {Predictions:N0} predictions of version {version} answered in batches of {BatchSize:N0} in {answered.TotalSeconds:F0} s and " +
            $"logged in {stopwatch.Elapsed.TotalSeconds:F0} s ({Predictions / stopwatch.Elapsed.TotalSeconds:N0} a second); {rows:N0} rows from {first:u} to {last:u}, " +
            $"{counts:N0} drift counts, {log.Dropped:N0} dropped");
        if (rows != Predictions || log.Dropped != 0)
        {
            throw new InvalidOperationException($"The log holds {rows:N0} predictions of version {version}, not {Predictions:N0}, and {log.Dropped:N0} were dropped.");
        }
    }

    /// <summary>
    /// Times one drift query, from the request to the answer read, checks that it counts every prediction and adds its
    /// status to <paramref name="statuses"/>.
    /// </summary>
    private static async Task<double> QueryAsync(HttpClient api, string query, ISet<string> statuses)
    {
        var stopwatch = Stopwatch.StartNew();
        using var response = await api.GetAsync($"/api/monitoring/drift{query}");
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        var elapsed = stopwatch.Elapsed.TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        var rows = answer!["rows"]!.GetValue<long>();
        if (rows != Predictions)
        {
            throw new InvalidOperationException($"The drift answer counts {rows:N0} predictions, not {Predictions:N0}: {answer}");
        }

        statuses.Add(answer["status"]!.GetValue<string>());

        return elapsed;
    }

    private static string Summary(List<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return $"median {median:F1} ms, max {sorted[^1]:F1} ms";
    }

    /// <summary>The test split's usable encounters as batch requests of 1,000 (the last, shorter one left out).</summary>
    private static IReadOnlyList<string> Batches(string datasetZip) =>
        DatasetEncounters.Load(datasetZip)
            .Where(encounter => encounter.Row.Split == DatasetSplit.Test)
            .Select(encounter => (JsonNode)TestEncounters.Request(encounter.Raw))
            .Chunk(BatchSize)
            .Where(batch => batch.Length == BatchSize)
            .Select(batch => new JsonArray(batch).ToJsonString())
            .ToArray();

    /// <summary>A clock that moves one step each time it is read.</summary>
    private sealed class ReplayClock(DateTimeOffset start, TimeSpan step) : TimeProvider
    {
        private long _readings;

        public override DateTimeOffset GetUtcNow() => start + step * Interlocked.Increment(ref _readings);
    }

    /// <summary>The inference API in this process, configured by its documented keys, on <paramref name="clock"/>.</summary>
    private sealed class InferenceInProcess(Uri mlflow, string monitoring, TimeProvider clock) : WebApplicationFactory<inference::Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("services:mlflow:http:0", mlflow.ToString());
            builder.UseSetting("ConnectionStrings:monitoring", monitoring);
            builder.UseSetting("Serving:RefreshInterval", "00:00:01");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            // The in-memory server cannot limit a body's size, and would say so at every request.
            builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware", "Error");
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
        }
    }
}
