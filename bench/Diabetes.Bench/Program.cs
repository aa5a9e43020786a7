using System.Diagnostics;
using System.Net.Http.Json;
using Diabetes.Ingest.Apis;

// Times the platform's pipelines against running services and prints the figures.
// Usage: Diabetes.Bench ingest <ingest base URL>   (bench/run-ingest.sh starts everything and calls it)
if (args is not ["ingest", var ingestUrl])
{
    Console.Error.WriteLine("usage: Diabetes.Bench ingest <ingest base URL>");
    return 2;
}

return await IngestBenchmark.RunAsync(new Uri(ingestUrl));

internal static class IngestBenchmark
{
    private static readonly TimeSpan Goal = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(Uri baseAddress)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
        var steps = new List<(string Step, TimeSpan Elapsed, string Result)>();

        async Task<T> TimeAsync<T>(string step, Func<Task<T>> call, Func<T, string> describe)
        {
            var stopwatch = Stopwatch.StartNew();
            var result = await call();
            steps.Add((step, stopwatch.Elapsed, describe(result)));
            return result;
        }

        var prepared = await TimeAsync("prepare", () => PostAsync<PrepareResponse>(http, "api/dataset/prepare"),
            p => $"{p.Rows:N0} rows: train {p.Train.Rows:N0} in {p.Train.Batches} batches, validation {p.Validation.Rows:N0}, test {p.Test.Rows:N0}, rejected {p.RejectedRows}");

        NextBatchResponse batch;
        do
        {
            batch = await TimeAsync("batches/next", () => PostAsync<NextBatchResponse>(http, "api/batches/next"),
                b => $"batch {b.BatchNumber}: {b.Rows:N0} rows ({b.LoadedTrainRows:N0} loaded)");
        }
        while (!batch.Done);

        await TimeAsync("clean", () => PostAsync<CleanResponse>(http, "api/clean"),
            c => $"{c.CleanedRows:N0} cleaned, {c.ExcludedRows:N0} excluded; CLEAN {string.Join(", ", c.CleanRowsBySplit.Select(s => $"{s.Key} {s.Value:N0}"))}");
        var pipeline = steps.Aggregate(TimeSpan.Zero, (total, step) => total + step.Elapsed);

        await TimeAsync("profile", async () => (await http.GetFromJsonAsync<ProfileResponse>("api/dataset/profile"))!,
            p => $"{p.Columns.Count} columns over {p.RawRows:N0} rows (not part of the pipeline total)");

        Console.WriteLine($"Ingest benchmark against {baseAddress} (source {prepared.SourceSha256[..12]}…)");
        foreach (var (step, elapsed, result) in steps)
        {
            Console.WriteLine($"  {step,-14} {elapsed.TotalSeconds,7:F2} s  {result}");
        }

        Console.WriteLine($"  {"pipeline",-14} {pipeline.TotalSeconds,7:F2} s  prepare + all batches + clean (goal: under {Goal.TotalSeconds:F0} s)");
        Console.WriteLine($"  process peak working set of this client: {Environment.WorkingSet / 1_048_576} MiB");
        return 0;
    }

    private static async Task<T> PostAsync<T>(HttpClient http, string path)
    {
        using var response = await http.PostAsync(path, content: null);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
