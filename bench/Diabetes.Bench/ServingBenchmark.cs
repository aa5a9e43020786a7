extern alias inference;

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;
using inference::Diabetes.InferenceApi.Monitoring;
using inference::Diabetes.InferenceApi.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Npgsql;

namespace Diabetes.Bench;

/// <summary>
/// The inference API under load on loopback: wrk against single predictions at concurrency 1 and 32, batches of 1,000,
/// and a model swap in the middle of a load, with the real chosen model (LightGBM, 31 leaves, 1,500 rounds) trained on
/// the train split; concurrency 32 with the prediction log off and on, in alternate rounds; in this process, the engine
/// pool against scoring through the transformer; and the drift query over 1,000,000 logged predictions (<see cref="DriftBenchmark"/>).
/// </summary>
public static partial class ServingBenchmark
{
    private const string Endpoint = "/api/predictions";

    /// <summary>Rounds of concurrency 32 with the log off, then on; each round as long as the others.</summary>
    private const int LoggingRounds = 5;

    private const int RoundSeconds = 10;

    /// <param name="monitoring">The connection string of an empty database for the prediction log.</param>
    public static async Task RunAsync(BenchPlatform platform, string binDirectory, string datasetZip, string monitoring)
    {
        var (train, validation) = Splits(datasetZip);
        var stopwatch = Stopwatch.StartNew();
        var trainer = new ModelTrainer(train, validation);
        var chosen = trainer.Train(Candidates.All[1]);
        var challenger = trainer.Train(Candidates.All.First(c => c.Algorithm == "LbfgsLogisticRegression"));
        Console.WriteLine($"Serving: trained {chosen.Candidate.Name} and {challenger.Candidate.Name} on {train.Count:N0} rows in {stopwatch.Elapsed.TotalSeconds:F0} s");

        await using var services = MlflowClients.Create(platform.Mlflow.BaseAddress);
        var mlflow = services.GetRequiredService<MlflowClient>();
        var lineage = new ModelLineage(["bench"], [1, 2, 3, 4, 5], train.Count, validation.Count, "bench");
        await ModelPublisher.PublishAsync(mlflow, chosen, trainer.Features, lineage);
        var second = await ModelPublisher.PublishAsync(mlflow, challenger, trainer.Features, lineage, promote: false);

        // Two instances: the log off (the figures below) and on (the rounds against the other one).
        var api = await platform.StartInferenceAsync(binDirectory, OffInstance);
        var logged = await platform.StartInferenceAsync(binDirectory, LoggedInstance, ("ConnectionStrings__monitoring", monitoring));
        await WaitForVersionAsync(api, "1");
        await WaitForVersionAsync(logged, "1");
        Console.WriteLine($"  inference API serving version 1; memory with one model loaded: {platform.MemoryMiB(OffInstance)} MiB resident");

        var single = TypicalEncounter.ToRequest().ToJsonString();
        var batch = new JsonArray(Enumerable.Range(0, 1_000).Select(i => (JsonNode)Request(validation[i % validation.Count], i)).ToArray()).ToJsonString();
        await WarmUpAsync(api, single);

        // The floor: the cheapest endpoint, to tell the machine's own latency tail (wrk shares the two cores) from scoring's.
        var floor = Wrk(api, body: null, connections: 1, threads: 1, seconds: 10, path: "/alive");
        Console.WriteLine($"  GET /alive, concurrency 1 (floor): {floor.RequestsPerSecond,8:N0} req/s  p50 {floor.P50Ms:F3} ms  p99 {floor.P99Ms:F3} ms");
        var one = Wrk(api, single, connections: 1, threads: 1, seconds: 10);
        Console.WriteLine($"  single, concurrency 1:  {one.RequestsPerSecond,8:N0} req/s  p50 {one.P50Ms:F3} ms  p99 {one.P99Ms:F3} ms  failed {one.Failed}");
        var many = Wrk(api, single, connections: 32, threads: 2, seconds: 10);
        Console.WriteLine($"  single, concurrency 32: {many.RequestsPerSecond,8:N0} req/s  p50 {many.P50Ms:F3} ms  p99 {many.P99Ms:F3} ms  failed {many.Failed}");
        var logging = await CompareLoggingAsync(platform, api, logged, single, monitoring);
        var explainGoal = MeasureExplanations(api, single, one, many, chosen.Model, validation);
        var batches = Wrk(api, batch, connections: 2, threads: 2, seconds: 10, path: "/api/predictions/batch");
        Console.WriteLine($"  batches of 1,000, concurrency 2: {batches.RequestsPerSecond * 1_000,8:N0} rows/s  p50 {batches.P50Ms:F1} ms  failed {batches.Failed}");

        // A swap under load: version 2 is promoted while 32 connections keep asking.
        var load = Task.Run(() => Wrk(api, single, connections: 32, threads: 2, seconds: 12));
        await Task.Delay(TimeSpan.FromSeconds(4));
        await mlflow.PromoteAsync(ModelArtifacts.RegisteredModelName, second.Version, CancellationToken.None);
        var swapSeconds = await WaitForVersionAsync(api, second.Version);
        var during = await load;
        Console.WriteLine($"  swap to version {second.Version} under load: served {swapSeconds:F1} s after promotion; " +
            $"{during.Requests:N0} requests, failed {during.Failed}, {during.RequestsPerSecond:N0} req/s");
        Console.WriteLine($"  memory after the runs: {platform.MemoryMiB(OffInstance)} MiB resident, peak {platform.PeakMemoryMiB(OffInstance)} MiB");

        CompareScorers(chosen.Model, validation);
        var drift = await DriftBenchmark.RunAsync(platform, binDirectory, datasetZip, monitoring, second.Version);
        Console.WriteLine();
        Console.WriteLine("Serving goals on this machine (load generator on the same cores):");
        Console.WriteLine($"  at least 5,000 predictions/s at concurrency 32: {many.RequestsPerSecond:N0} {(many.RequestsPerSecond >= 5_000 ? "met" : "MISSED")}");
        Console.WriteLine($"  p99 at most 2 ms at concurrency 1: {one.P99Ms:F3} ms {(one.P99Ms <= 2 ? "met" : "MISSED")} (GET /alive alone: {floor.P99Ms:F3} ms)");
        Console.WriteLine($"  no failed request across a swap: {during.Failed} {(during.Failed == 0 ? "met" : "MISSED")}");
        Console.WriteLine($"  concurrency 32 with the log on at least 90 % of off: {logging.Ratio:P1} {(logging.Ratio >= 0.9 ? "met" : "MISSED")}");
        Console.WriteLine($"  the writer keeping up (no drops, health Healthy) at that rate: {logging.Dropped} dropped, health {logging.Health} " +
            $"{(logging.Dropped == 0 && logging.Health == "Healthy" ? "met" : "MISSED")}");
        drift.PrintGoal();
        Console.WriteLine(explainGoal);
    }

    private const string OffInstance = "inference";
    private const string LoggedInstance = "inference-logged";

    private sealed record LoggingFigures(double Ratio, long Dropped, string Health);

    /// <summary>
    /// Single predictions at concurrency 32 against the instance without the log and the one with it, in alternate
    /// rounds of the same length (the machine's other work then weighs on both alike). After each round with the log,
    /// the instance's own counters, read from outside its process: predictions answered, written and dropped; and
    /// whether <c>/health</c> stayed Healthy while the round ran and its log was written.
    /// </summary>
    private static async Task<LoggingFigures> CompareLoggingAsync(BenchPlatform platform, HttpClient off, HttpClient on, string body, string monitoring)
    {
        Console.WriteLine($"  concurrency 32, the prediction log off and on, {LoggingRounds} rounds of {RoundSeconds} s each (load average {BenchPlatform.LoadAverage():F1}):");
        await using var counters = new ServiceCounters(platform.ProcessId(LoggedInstance),
            (ServingTelemetry.SourceName, PredictionsCounter), (ServingTelemetry.SourceName, WrittenCounter), (ServingTelemetry.SourceName, DroppedCounter));
        // A round of each, not counted: the instance with the log has not yet run its writer's code, nor held its load
        // (after 200 requests or half a round only, its first round ran far below its next ones).
        Wrk(on, body, connections: 32, threads: 2, seconds: RoundSeconds);
        Wrk(off, body, connections: 32, threads: 2, seconds: RoundSeconds);
        // Everything answered is written or dropped once the writer has caught up.
        async Task<bool> CaughtUpAsync()
        {
            await counters.RefreshAsync();
            return counters.Total(PredictionsCounter) == counters.Total(WrittenCounter) + counters.Total(DroppedCounter);
        }

        await WaitAsync(CaughtUpAsync, TimeSpan.FromSeconds(60));
        (long Answered, long Written, long Dropped) Totals() =>
            (counters.Total(PredictionsCounter), counters.Total(WrittenCounter), counters.Total(DroppedCounter));
        var before = Totals();
        var (offRates, onRates) = (new List<double>(), new List<double>());
        var health = new SortedSet<string>(StringComparer.Ordinal);
        var postgres = await PostgresServerProcessAsync(monitoring);
        var (offCpu, onCpu, postgresCpu) = (0.0, 0.0, 0.0);
        for (var round = 1; round <= LoggingRounds; round++)
        {
            var offStart = BenchPlatform.CpuSeconds(platform.ProcessId(OffInstance));
            var withoutLog = Wrk(off, body, connections: 32, threads: 2, seconds: RoundSeconds);
            offRates.Add(withoutLog.RequestsPerSecond);
            var offRoundCpu = BenchPlatform.CpuSeconds(platform.ProcessId(OffInstance)) - offStart;
            offCpu += offRoundCpu;

            using var watching = new CancellationTokenSource();
            var roundHealth = new SortedSet<string>(StringComparer.Ordinal);
            var watch = WatchHealthAsync(on, roundHealth, watching.Token);
            var (onStart, postgresStart) = (BenchPlatform.CpuSeconds(platform.ProcessId(LoggedInstance)), BenchPlatform.CpuSeconds(postgres, children: true));
            var withLog = Wrk(on, body, connections: 32, threads: 2, seconds: RoundSeconds);
            onRates.Add(withLog.RequestsPerSecond);
            var caughtUp = await WaitAsync(CaughtUpAsync, TimeSpan.FromSeconds(60));
            var (onRoundCpu, postgresRoundCpu) = (BenchPlatform.CpuSeconds(platform.ProcessId(LoggedInstance)) - onStart,
                BenchPlatform.CpuSeconds(postgres, children: true) - postgresStart);
            (onCpu, postgresCpu) = (onCpu + onRoundCpu, postgresCpu + postgresRoundCpu);
            await watching.CancelAsync();
            await watch;
            health.UnionWith(roundHealth);
            var after = Totals();
            var (roundAnswered, roundWritten, roundDropped) = (after.Answered - before.Answered, after.Written - before.Written, after.Dropped - before.Dropped);
            before = after;
            Console.WriteLine($"    round {round}: off {withoutLog.RequestsPerSecond,8:N0} req/s (p99 {withoutLog.P99Ms:F1} ms, failed {withoutLog.Failed}, " +
                $"CPU {Micros(offRoundCpu, withoutLog.Requests)} µs a request); " +
                $"on {withLog.RequestsPerSecond,8:N0} req/s (p99 {withLog.P99Ms:F1} ms, failed {withLog.Failed}, CPU {Micros(onRoundCpu, roundAnswered)} µs a request " +
                $"and PostgreSQL's {Micros(postgresRoundCpu, roundAnswered)} µs); " +
                $"logged: {roundAnswered:N0} answered, {roundWritten:N0} written, {roundDropped:N0} dropped{(caughtUp ? "" : ", the writer NOT caught up after 60 s")}; " +
                $"health {string.Join("/", roundHealth)}; load average {BenchPlatform.LoadAverage():F1}");
        }

        await using var connection = new NpgsqlConnection(monitoring);
        await connection.OpenAsync();
        var rows = await connection.ScalarAsync<long>($"SELECT count(*) FROM {PredictionTable.Name}", CancellationToken.None);
        var ratio = onRates.Average() / offRates.Average();
        var total = Totals();
        Console.WriteLine($"    mean: off {offRates.Average():N0} req/s, on {onRates.Average():N0} req/s, on/off {ratio:P1}; " +
            $"CPU a request: off {Micros(offCpu, offRates.Sum() * RoundSeconds)} µs, on {Micros(onCpu, onRates.Sum() * RoundSeconds)} µs " +
            $"and PostgreSQL's {Micros(postgresCpu, onRates.Sum() * RoundSeconds)} µs; with the warm-up round, " +
            $"{total.Answered:N0} answered, {total.Written:N0} written ({rows:N0} rows in predictions), {total.Dropped:N0} dropped");
        return new LoggingFigures(ratio, total.Dropped, string.Join("/", health));
    }

    private static string Micros(double cpuSeconds, double requests) => (cpuSeconds * 1e6 / Math.Max(requests, 1)).ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>The process id of the PostgreSQL server, from its data directory's <c>postmaster.pid</c>.</summary>
    private static async Task<int> PostgresServerProcessAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var dataDirectory = await connection.ScalarAsync<string>("SHOW data_directory", CancellationToken.None);
        return int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
    }

    private const string PredictionsCounter = "diabetes.predictions";
    private const string WrittenCounter = "diabetes.prediction_log.written";
    private const string DroppedCounter = "diabetes.prediction_log.dropped";

    /// <summary>Adds every status <c>/health</c> answers, twice a second, to <paramref name="seen"/> until cancelled.</summary>
    private static async Task WatchHealthAsync(HttpClient api, ISet<string> seen, CancellationToken cancellationToken)
    {
        while (true)
        {
            using (var response = await api.GetAsync("/health", CancellationToken.None))
            {
                seen.Add(await response.Content.ReadAsStringAsync(CancellationToken.None));
            }

            try
            {
                await Task.Delay(500, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > limit)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The cost of <c>explain=true</c> (every contribution computed, the ten largest answered): single predictions at
    /// concurrency 1 and 32 beside the plain ones, and one row explained in this process beside one scored. Answers the
    /// goal's line: p50 at most 1 ms above a plain prediction's at concurrency 1.
    /// </summary>
    private static string MeasureExplanations(HttpClient api, string single, WrkFigures plainOne, WrkFigures plainMany, ReadmissionModel model, IReadOnlyList<ModelInput> rows)
    {
        const string explain = Endpoint + "?explain=true";
        var one = Wrk(api, single, connections: 1, threads: 1, seconds: 10, path: explain);
        Console.WriteLine($"  explain=true, concurrency 1:  {one.RequestsPerSecond,8:N0} req/s  p50 {one.P50Ms:F3} ms  p99 {one.P99Ms:F3} ms  failed {one.Failed}" +
            $"  (p50 {one.P50Ms - plainOne.P50Ms:+0.000;-0.000} ms beside plain)");
        var many = Wrk(api, single, connections: 32, threads: 2, seconds: 10, path: explain);
        Console.WriteLine($"  explain=true, concurrency 32: {many.RequestsPerSecond,8:N0} req/s  p50 {many.P50Ms:F3} ms  p99 {many.P99Ms:F3} ms  failed {many.Failed}" +
            $"  (p50 {many.P50Ms - plainMany.P50Ms:+0.000;-0.000} ms, {many.RequestsPerSecond / plainMany.RequestsPerSecond:P0} of plain's rate)");
        var scorer = model.CreateScorer();
        Console.WriteLine($"  one row in this process: scored {MicrosPerRow(rows, 20_000, row => scorer.Predict(row)):F1} µs, " +
            $"explained {MicrosPerRow(rows, 5_000, row => scorer.Explain(row)):F1} µs");
        var extra = one.P50Ms - plainOne.P50Ms;
        return $"  explain=true p50 at most 1 ms above a plain prediction's at concurrency 1: {extra:+0.000;-0.000} ms {(extra <= 1 ? "met" : "MISSED")}";
    }

    /// <summary>
    /// One row at a time, in this process: the API's scorer (featurization, then the learner on a dense vector), one
    /// prediction engine over the whole model (the learner reads a sparse vector), and a one-row transform.
    /// </summary>
    private static void CompareScorers(ReadmissionModel model, IReadOnlyList<ModelInput> rows)
    {
        var scorer = model.CreateScorer();
        var ml = new MLContext(seed: 1);
        var engine = ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model.Transformer, model.InputSchema);
        var scorerMicros = MicrosPerRow(rows, 20_000, row => scorer.Predict(row));
        var engineMicros = MicrosPerRow(rows, 5_000, row => engine.Predict(row));
        var transformMicros = MicrosPerRow(rows, 1_000,
            row => model.Transformer.Transform(ml.Data.LoadFromEnumerable([row])).GetColumn<float>(ReadmissionModel.ProbabilityColumn).Single());
        var differs = rows.Take(2_000).Count(row => Math.Abs(scorer.Predict(row) - engine.Predict(row).Probability) > 1e-6);
        Console.WriteLine($"  one row: API scorer {scorerMicros:F1} µs; one engine over the whole model {engineMicros:F1} µs; " +
            $"a one-row transform {transformMicros:F1} µs; rows scored differently by scorer and engine: {differs} of 2,000");
    }

    private static double MicrosPerRow(IReadOnlyList<ModelInput> rows, int count, Action<ModelInput> score)
    {
        score(rows[0]);
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            score(rows[i % rows.Count]);
        }

        return stopwatch.Elapsed.TotalMicroseconds / count;
    }

    private static async Task WarmUpAsync(HttpClient api, string body)
    {
        for (var i = 0; i < 200; i++)
        {
            using var response = await api.PostAsync(Endpoint, new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
        }
    }

    internal static async Task<double> WaitForVersionAsync(HttpClient api, string version)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromMinutes(2))
        {
            using var response = await api.GetAsync("/api/model");
            if (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonObject>())?["version"]?.GetValue<string>() == version)
            {
                return stopwatch.Elapsed.TotalSeconds;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Version {version} was not served within two minutes.");
    }

    private sealed record WrkFigures(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Failed);

    /// <summary>Runs wrk (Debian's package) with a POST of <paramref name="body"/> (a GET when null) and reads its summary.</summary>
    private static WrkFigures Wrk(HttpClient api, string? body, int connections, int threads, int seconds, string path = Endpoint)
    {
        var script = Path.Combine(Path.GetTempPath(), $"diabetes-wrk-{Guid.NewGuid():N}.lua");
        File.WriteAllText(script, body is null
            ? ""
            : $"wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n");
        try
        {
            var start = new ProcessStartInfo("wrk", ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{seconds}s", "--latency", "-s", script, new Uri(api.BaseAddress!, path).ToString()])
            {
                RedirectStandardOutput = true,
            };
            using var wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install wrk).");
            var output = wrk.StandardOutput.ReadToEnd();
            wrk.WaitForExit();
            var requests = long.Parse(RequestsPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var non2xx = NonSuccessPattern().Match(output) is { Success: true } bad ? long.Parse(bad.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var socketErrors = SocketErrorsPattern().Match(output) is { Success: true } errors
                ? errors.Groups.Cast<Group>().Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture))
                : 0;
            return new WrkFigures(
                double.Parse(RatePattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
                Percentile(output, "50%"), Percentile(output, "99%"), requests, non2xx + socketErrors);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static double Percentile(string output, string percentile)
    {
        var match = Regex.Match(output, $@"^\s+{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "ms" => value, _ => value * 1000 };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RatePattern();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsPattern();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NonSuccessPattern();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsPattern();

    /// <summary>CLEAN train and validation rows of the dataset, split by the design's rule, in model inputs.</summary>
    internal static (List<ModelInput> Train, List<ModelInput> Validation) Splits(string datasetZip)
    {
        var rows = CrossValidationBenchmark.Load(datasetZip);
        List<ModelInput> Of(DatasetSplit split) => rows.Where(r => SplitRule.OfBucket(r.Bucket) == split).Select(r => r.Input).ToList();
        return (Of(DatasetSplit.Train), Of(DatasetSplit.Validation));
    }

    /// <summary>The typical request with a few fields varied, so that a batch is not 1,000 copies of one row.</summary>
    private static JsonObject Request(ModelInput row, int index)
    {
        var request = TypicalEncounter.ToRequest();
        request["time_in_hospital"] = (int)row.TimeInHospital;
        request["num_lab_procedures"] = (int)row.NumLabProcedures;
        request["num_medications"] = (int)row.NumMedications;
        request["number_inpatient"] = (int)row.NumberInpatient;
        request["age"] = EncounterDomain.AgeBrackets[index % EncounterDomain.AgeBrackets.Count];
        return request;
    }
}
