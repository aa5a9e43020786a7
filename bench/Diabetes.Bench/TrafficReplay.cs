using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Encounters;
using Diabetes.Ingest.Services;
using Diabetes.Testing;
using Diabetes.Testing.Models;

namespace Diabetes.Bench;

/// <summary>One encounter to send: its prediction request (shifted when asked) and its true outcome.</summary>
public sealed record TrafficEncounter(JsonObject Request, bool ReadmittedWithin30Days);

/// <summary>The encounters and requests that failed alike (one HTTP status, or no answer), and the first answer's text.</summary>
public sealed record FailedRequests(int Encounters, int Requests, string FirstAnswer);

/// <summary>What the outcomes posted became: the API's count of each item status, and the requests that failed whole.</summary>
public sealed record OutcomeTally(
    int Posted, int Recorded, int AlreadyRecorded, int Conflict, int Unknown, int Invalid, IReadOnlyDictionary<string, FailedRequests> Failed);

/// <summary>
/// What a replay did: encounters sent and answered (each with a prediction id), the failures by HTTP status
/// (<see cref="TrafficReplay.NoAnswer"/> when none came), and the outcomes when they were recorded.
/// </summary>
public sealed record TrafficSummary(
    int Sent, int Requests, int Answered, IReadOnlyDictionary<string, FailedRequests> Failed, TimeSpan Elapsed, OutcomeTally? Outcomes);

/// <summary>
/// Sends encounters of the dataset through the inference API at a steady rate, as <c>bench/run.sh traffic</c> does:
/// one request an encounter up to <see cref="SinglesUpTo"/> a second, above that <see cref="BatchesPerSecond"/> batches a
/// second. A request that fails is counted by its status and the run goes on. With outcomes, each answered encounter's true
/// outcome is posted afterwards to <c>POST /api/outcomes</c>, a thousand at a time.
/// </summary>
public sealed class TrafficReplay(HttpClient api, TextWriter output)
{
    public const int SinglesUpTo = 100;
    public const int BatchesPerSecond = 10;

    /// <summary>The failure of a request that got no HTTP answer (refused, reset, timed out).</summary>
    public const string NoAnswer = "no answer";

    /// <summary>The most encounters the API takes in one batch, and outcomes in one list.</summary>
    private const int MaxPerRequest = 1_000;

    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long outcomes whose predictions are not in the log yet are posted again: the log writes a prediction within a
    /// second or two of its answer.
    /// </summary>
    private static readonly TimeSpan UnknownOutcomesWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The encounters of <paramref name="split"/> (all, or <paramref name="limit"/> spread evenly over it in arrival
    /// order, so that a short run stands for the whole split), each request shifted by <paramref name="shifts"/>.
    /// </summary>
    public static IReadOnlyList<TrafficEncounter> Select(
        IReadOnlyList<DatasetEncounter> dataset, DatasetSplit split, int? limit, IReadOnlyList<InputShift> shifts)
    {
        var chosen = dataset.Where(e => e.Row.Split == split).ToList();
        if (limit is { } count && count < chosen.Count)
        {
            chosen = Enumerable.Range(0, count).Select(i => chosen[(int)((long)i * chosen.Count / count)]).ToList();
        }

        return chosen.Select(e => new TrafficEncounter(TestEncounters.Request(InputShift.Apply(shifts, e.Raw)), e.Clean.ReadmittedWithin30Days == true)).ToArray();
    }

    /// <summary>Encounters a request at <paramref name="rate"/> a second.</summary>
    public static int BatchSize(double rate) => rate <= SinglesUpTo ? 1 : Math.Min(MaxPerRequest, (int)Math.Ceiling(rate / BatchesPerSecond));

    /// <summary>Sends <paramref name="encounters"/> at <paramref name="rate"/> a second, prints progress and a summary, and answers the summary.</summary>
    public async Task<TrafficSummary> RunAsync(IReadOnlyList<TrafficEncounter> encounters, double rate, bool recordOutcomes, CancellationToken cancellationToken = default)
    {
        var size = BatchSize(rate);
        var failed = new Dictionary<string, FailedRequests>(StringComparer.Ordinal);
        var answered = new List<(Guid PredictionId, bool Readmitted)>(encounters.Count);
        var (sent, requests) = (0, 0);
        var clock = Stopwatch.StartNew();
        var nextProgress = ProgressEvery;
        foreach (var chunk in encounters.Chunk(size))
        {
            var due = TimeSpan.FromSeconds(sent / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }

            Guid[]? ids = size == 1
                ? await PostAsync<PredictionAnswer>("api/predictions", chunk[0].Request, 1, failed, cancellationToken) is { } one ? [one.PredictionId] : null
                : (await PostAsync<PredictionAnswer[]>("api/predictions/batch", new JsonArray([.. chunk.Select(e => e.Request.DeepClone())]), chunk.Length, failed, cancellationToken))
                    ?.Select(answer => answer.PredictionId).ToArray();
            if (ids is not null && ids.Length != chunk.Length)
            {
                // Each answer is matched to its encounter by position: a short or long list matches none of them.
                Fail(failed, UnreadableAnswer, chunk.Length, $"{ids.Length:N0} answers to {chunk.Length:N0} encounters");
                ids = null;
            }

            answered.AddRange(ids?.Zip(chunk, (id, encounter) => (id, encounter.ReadmittedWithin30Days)) ?? []);
            sent += chunk.Length;
            requests++;
            if (clock.Elapsed >= nextProgress)
            {
                output.WriteLine($"  {clock.Elapsed.TotalSeconds,5:F0} s: sent {sent:N0} of {encounters.Count:N0} ({sent / clock.Elapsed.TotalSeconds:N0}/s), " +
                    $"answered {answered.Count:N0}, failed {sent - answered.Count:N0}");
                nextProgress += ProgressEvery;
            }
        }

        var elapsed = clock.Elapsed;
        output.WriteLine($"Sent {sent:N0} encounters in {requests:N0} requests over {elapsed.TotalSeconds:F1} s ({sent / Math.Max(elapsed.TotalSeconds, 1e-3):N0}/s): " +
            $"answered {answered.Count:N0}, failed {sent - answered.Count:N0}{Failures(failed)}");
        var outcomes = recordOutcomes ? await RecordOutcomesAsync(answered, cancellationToken) : null;
        if (outcomes is not null)
        {
            output.WriteLine($"Outcomes of {outcomes.Posted:N0} answered encounters (readmitted <30: {answered.Count(a => a.Readmitted):N0}): recorded {outcomes.Recorded:N0}, " +
                $"already recorded {outcomes.AlreadyRecorded:N0}, conflict {outcomes.Conflict:N0}, unknown {outcomes.Unknown:N0}, invalid {outcomes.Invalid:N0}{Failures(outcomes.Failed)}");
        }

        return new TrafficSummary(sent, requests, answered.Count, failed, elapsed, outcomes);
    }

    /// <summary>
    /// Posts the outcomes, a thousand a request; those whose prediction is not in the log yet (<c>unknown</c>) are posted
    /// again each second until they are, or for <see cref="UnknownOutcomesWait"/>.
    /// </summary>
    private async Task<OutcomeTally> RecordOutcomesAsync(IReadOnlyList<(Guid PredictionId, bool Readmitted)> answered, CancellationToken cancellationToken)
    {
        var failed = new Dictionary<string, FailedRequests>(StringComparer.Ordinal);
        var (recorded, alreadyRecorded, conflict, invalid) = (0, 0, 0, 0);
        var pending = answered;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var unknown = new List<(Guid PredictionId, bool Readmitted)>();
            foreach (var chunk in pending.Chunk(MaxPerRequest))
            {
                var list = new JsonArray([.. chunk.Select(o => new JsonObject { ["predictionId"] = o.PredictionId, ["readmittedWithin30Days"] = o.Readmitted })]);
                if (await PostAsync<OutcomesAnswer>("api/outcomes", list, chunk.Length, failed, cancellationToken) is not { } answer)
                {
                    continue;
                }

                (recorded, alreadyRecorded, conflict, invalid) =
                    (recorded + answer.Recorded, alreadyRecorded + answer.AlreadyRecorded, conflict + answer.Conflict, invalid + answer.Invalid);
                unknown.AddRange(chunk.Where((_, i) => answer.Items[i].Status == "unknown"));
            }

            if (unknown.Count == 0 || clock.Elapsed > UnknownOutcomesWait)
            {
                return new OutcomeTally(answered.Count, recorded, alreadyRecorded, conflict, unknown.Count, invalid, failed);
            }

            pending = unknown;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>The answer to a POST of <paramref name="body"/>, or null with the failure counted against its <paramref name="encounters"/>.</summary>
    private async Task<T?> PostAsync<T>(string path, JsonNode body, int encounters, Dictionary<string, FailedRequests> failed, CancellationToken cancellationToken)
        where T : class
    {
        string status, text;
        try
        {
            using var response = await api.PostAsync(path, JsonContent.Create(body), cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return await response.Content.ReadFromJsonAsync<T>(cancellationToken) ?? throw new JsonException("The answer is null.");
            }

            (status, text) = (((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException
            || (exception is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            (status, text) = (exception is JsonException ? UnreadableAnswer : NoAnswer, exception.Message);
        }

        Fail(failed, status, encounters, text);
        return null;
    }

    private const string UnreadableAnswer = "unreadable answer";

    private static void Fail(Dictionary<string, FailedRequests> failed, string status, int encounters, string text) =>
        failed[status] = failed.TryGetValue(status, out var known)
            ? known with { Encounters = known.Encounters + encounters, Requests = known.Requests + 1 }
            : new FailedRequests(encounters, 1, text.Length <= 300 ? text : text[..300] + "…");

    private static string Failures(IReadOnlyDictionary<string, FailedRequests> failed) => string.Concat(failed.Select(f =>
        $"{Environment.NewLine}  {f.Key}: {f.Value.Encounters:N0} in {f.Value.Requests:N0} requests; the first answer: {f.Value.FirstAnswer}"));

    /// <summary>
    /// <c>bench/run.sh traffic</c>: reads the options (exit 2 when they are wrong), the dataset and the API's model, sends
    /// the traffic; exit 0 when every encounter (and outcome) was taken, 1 when any failed or the API does not answer.
    /// </summary>
    public static async Task<int> RunCommandAsync(IReadOnlyList<string> args)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine(TrafficOptions.Usage);
            return 0;
        }

        TrafficOptions options;
        IReadOnlyList<TrafficEncounter> encounters;
        try
        {
            options = TrafficOptions.Parse(args, Environment.GetEnvironmentVariable(TestData.DatasetVariable));
            encounters = Select(DatasetEncounters.Load(options.Dataset), options.Split, options.Limit, options.Shifts);
        }
        catch (Exception exception) when (exception is FormatException or IngestProblemException)
        {
            Console.Error.WriteLine(exception.Message);
            Console.Error.WriteLine(TrafficOptions.Synopsis);
            Console.Error.WriteLine("(bench/run.sh traffic --help explains the options)");
            return 2;
        }

        var size = BatchSize(options.Rate);
        Console.WriteLine($"Traffic to {options.Url}: {encounters.Count:N0} encounters of the {options.Split.ToName()} split of {options.Dataset}" +
            (options.Shifts.Count > 0 ? $", shifted {string.Join(", ", options.Shifts)}" : ", unshifted") +
            $", {options.Rate:G}/s " + (size == 1 ? "one request each" : $"in batches of {size:N0}") + (options.Outcomes ? ", with outcomes" : ""));
        using var api = new HttpClient { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var model = await api.GetAsync("api/model");
            var text = await model.Content.ReadAsStringAsync();
            Console.WriteLine(model.IsSuccessStatusCode && JsonNode.Parse(text) is JsonObject served
                ? $"  serving {served["name"]} version {served["version"]} ({served["algorithm"]})"
                : $"  GET api/model answered {(int)model.StatusCode}: {text}");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"No answer from {options.Url}: {exception.Message}");
            return 1;
        }

        var summary = await new TrafficReplay(api, Console.Out).RunAsync(encounters, options.Rate, options.Outcomes);
        return summary.Failed.Count == 0 && summary.Outcomes is null or { Failed.Count: 0, Unknown: 0, Invalid: 0 } ? 0 : 1;
    }

    private sealed record PredictionAnswer(Guid PredictionId);

    private sealed record OutcomesAnswer(int Recorded, int AlreadyRecorded, int Conflict, int Unknown, int Invalid, OutcomeItemAnswer[] Items);

    private sealed record OutcomeItemAnswer(string Status);
}
