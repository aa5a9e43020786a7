using System.Diagnostics;
using System.Net.Http.Json;
using Diabetes.Ingest.Apis;

namespace Diabetes.Bench;

/// <summary>The data pipeline's time (prepare + all batches + clean) and the service's peak memory over it.</summary>
public sealed record PipelineFigures(TimeSpan Total, long PeakMemoryMiB);

/// <summary>Prepare, every train batch and clean, through the ingest API, each step timed; then the data profile.</summary>
public static class IngestBenchmark
{
    /// <param name="peakMemoryMiB">The ingest service's peak resident memory so far.</param>
    public static async Task<PipelineFigures> RunAsync(HttpClient ingest, Func<long> peakMemoryMiB)
    {
        var steps = new List<(string Step, TimeSpan Elapsed, string Result)>();

        async Task<T> TimeAsync<T>(string step, string path, Func<T, string> describe)
        {
            var stopwatch = Stopwatch.StartNew();
            var result = await PostAsync<T>(ingest, path);
            steps.Add((step, stopwatch.Elapsed, describe(result)));
            return result;
        }

        var prepared = await TimeAsync<PrepareResponse>("prepare", "api/dataset/prepare",
            p => $"{p.Rows:N0} rows: train {p.Train.Rows:N0} in {p.Train.Batches} batches, validation {p.Validation.Rows:N0}, test {p.Test.Rows:N0}, rejected {p.RejectedRows}");
        NextBatchResponse batch;
        do
        {
            batch = await TimeAsync<NextBatchResponse>("batches/next", "api/batches/next", b => $"batch {b.BatchNumber}: {b.Rows:N0} rows");
        }
        while (!batch.Done);

        await TimeAsync<CleanResponse>("clean", "api/clean",
            c => $"{c.CleanedRows:N0} cleaned, {c.ExcludedRows:N0} excluded; CLEAN {string.Join(", ", c.CleanRowsBySplit.Select(s => $"{s.Key} {s.Value:N0}"))}");
        var total = steps.Aggregate(TimeSpan.Zero, (sum, step) => sum + step.Elapsed);
        // Before the profile, which reads every RAW row again and is no step of the pipeline.
        var pipelinePeak = peakMemoryMiB();

        var profileTime = Stopwatch.StartNew();
        var profile = (await ingest.GetFromJsonAsync<ProfileResponse>("api/dataset/profile"))!;
        Console.WriteLine($"Data pipeline (source {prepared.SourceSha256[..12]}…)");
        foreach (var (step, elapsed, result) in steps)
        {
            Console.WriteLine($"  {step,-14} {elapsed.TotalSeconds,7:F2} s  {result}");
        }

        Console.WriteLine($"  {"total",-14} {total.TotalSeconds,7:F2} s  prepare + all batches + clean");
        Console.WriteLine($"  {"peak memory",-14} {pipelinePeak,7} MiB through the pipeline");
        Console.WriteLine($"  {"profile",-14} {profileTime.Elapsed.TotalSeconds,7:F2} s  {profile.Columns.Count} columns over {profile.RawRows:N0} rows; " +
            $"peak memory {peakMemoryMiB()} MiB with it");
        return new PipelineFigures(total, pipelinePeak);
    }

    public static async Task<T> PostAsync<T>(HttpClient client, string path)
    {
        using var response = await client.PostAsync(path, content: null);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
