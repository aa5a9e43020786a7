using System.Diagnostics;
using System.Net.Http.Json;
using Diabetes.Ingest.Apis;

namespace Diabetes.Bench;

/// <summary>
/// The data pipeline's figures: each step's time and the ingest service's peak resident memory in it (the peak is
/// started again from the resident memory at the start of each step), and its resident memory before the first step.
/// </summary>
public sealed record PipelineFigures(
    PrepareResponse Prepared, TimeSpan Prepare, IReadOnlyList<TimeSpan> Batches, TimeSpan Clean, long CleanedRows,
    long StartMiB, long PreparePeakMiB, long BatchesPeakMiB, long CleanPeakMiB)
{
    public TimeSpan BatchesTotal => Batches.Aggregate(TimeSpan.Zero, (sum, batch) => sum + batch);

    public TimeSpan Total => Prepare + BatchesTotal + Clean;

    public long PeakMemoryMiB => Math.Max(PreparePeakMiB, Math.Max(BatchesPeakMiB, CleanPeakMiB));
}

/// <summary>Prepare, every train batch and clean, through the ingest API, each step timed; then, if asked, the data profile.</summary>
public static class IngestBenchmark
{
    private const string Service = "ingest";

    public static async Task<PipelineFigures> RunAsync(BenchPlatform platform, bool profile = true)
    {
        var ingest = platform.Ingest;
        var steps = new List<(string Step, TimeSpan Elapsed, string Result)>();

        async Task<T> TimeAsync<T>(string step, string path, Func<T, string> describe)
        {
            var stopwatch = Stopwatch.StartNew();
            var result = await PostAsync<T>(ingest, path);
            steps.Add((step, stopwatch.Elapsed, describe(result)));
            return result;
        }

        var startMiB = platform.MemoryMiB(Service);
        platform.ResetPeakMemory(Service);
        var prepared = await TimeAsync<PrepareResponse>("prepare", "api/dataset/prepare",
            p => $"{p.Rows:N0} rows: train {p.Train.Rows:N0} in {p.Train.Batches} batches, validation {p.Validation.Rows:N0}, test {p.Test.Rows:N0}, rejected {p.RejectedRows}");
        var preparePeak = platform.PeakMemoryMiB(Service);

        platform.ResetPeakMemory(Service);
        NextBatchResponse batch;
        do
        {
            batch = await TimeAsync<NextBatchResponse>("batches/next", "api/batches/next", b => $"batch {b.BatchNumber}: {b.Rows:N0} rows");
        }
        while (!batch.Done);

        var batchesPeak = platform.PeakMemoryMiB(Service);

        platform.ResetPeakMemory(Service);
        var cleaned = await TimeAsync<CleanResponse>("clean", "api/clean",
            c => $"{c.CleanedRows:N0} cleaned, {c.ExcludedRows:N0} excluded; CLEAN {string.Join(", ", c.CleanRowsBySplit.Select(s => $"{s.Key} {s.Value:N0}"))}");
        var figures = new PipelineFigures(prepared, steps[0].Elapsed, steps.Skip(1).SkipLast(1).Select(s => s.Elapsed).ToArray(),
            steps[^1].Elapsed, cleaned.CleanedRows, startMiB, preparePeak, batchesPeak, platform.PeakMemoryMiB(Service));

        Console.WriteLine($"Data pipeline (source {prepared.SourceSha256[..12]}…)");
        foreach (var (step, elapsed, result) in steps)
        {
            Console.WriteLine($"  {step,-14} {elapsed.TotalSeconds,7:F2} s  {result}");
        }

        Console.WriteLine($"  {"total",-14} {figures.Total.TotalSeconds,7:F2} s  prepare + all batches + clean");
        Console.WriteLine($"  {"peak memory",-14} {figures.PeakMemoryMiB,7} MiB through the pipeline ({figures.StartMiB} before it; prepare {figures.PreparePeakMiB}, " +
            $"batches {figures.BatchesPeakMiB}, clean {figures.CleanPeakMiB} MiB)");
        if (profile)
        {
            // After the pipeline's figures: the profile reads every RAW row again and is no step of the pipeline.
            var profileTime = Stopwatch.StartNew();
            var report = (await ingest.GetFromJsonAsync<ProfileResponse>("api/dataset/profile"))!;
            Console.WriteLine($"  {"profile",-14} {profileTime.Elapsed.TotalSeconds,7:F2} s  {report.Columns.Count} columns over {report.RawRows:N0} rows; " +
                $"peak memory {platform.PeakMemoryMiB(Service)} MiB with it");
        }

        return figures;
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
