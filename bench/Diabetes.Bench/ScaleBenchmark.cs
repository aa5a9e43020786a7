using System.Globalization;
using Diabetes.Core.Data;
using Diabetes.Core.Storage;
using Diabetes.Ingest.Sources;
using Minio.DataModel.Args;
using Npgsql;

namespace Diabetes.Bench;

/// <summary>
/// How cost grows with the data: the pipeline and a training job on the real dataset (1×) and on an N-times one
/// (<see cref="ScaledDataset"/>), alternately, each run on fresh databases and freshly started services, so that each
/// peak memory is that run's; then the figures side by side, as ranges over the rounds.
/// </summary>
public static class ScaleBenchmark
{
    private sealed record Run(int Factor, int Rows, PipelineFigures Pipeline, TrainingFigures Training, long TrainerPeakMiB, double LoadBefore, double LoadAfter);

    public static async Task RunAsync(string binDirectory, string datasetZip, int factor, int rounds)
    {
        var server = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__rawdata")
            ?? throw new InvalidOperationException("ConnectionStrings__rawdata names the PostgreSQL server to use."));
        var minio = MinioConnection.Parse(Environment.GetEnvironmentVariable("ConnectionStrings__minio")
            ?? throw new InvalidOperationException("ConnectionStrings__minio names the S3 server to use.")).CreateClient();
        var folder = Directory.CreateTempSubdirectory("diabetes-bench-scale-");
        try
        {
            var scaledZip = Path.Combine(folder.FullName, $"dataset_diabetes_{factor}x.zip");
            var scaledRows = ScaledDataset.Write(datasetZip, factor, scaledZip);
            Console.WriteLine($"Made {scaledZip}: {scaledRows:N0} rows, {new FileInfo(scaledZip).Length:N0} bytes");
            var runs = new List<Run>();
            for (var round = 1; round <= rounds; round++)
            {
                // 1× first in odd rounds, N× first in even ones: neither always runs on a machine the other warmed.
                var order = new[] { (1, datasetZip), (factor, scaledZip) };
                foreach (var (scale, dataset) in round % 2 == 1 ? order : order.Reverse())
                {
                    Console.WriteLine();
                    Console.WriteLine($"=== {scale}× (round {round} of {rounds}) ===");
                    runs.Add(await RunOnceAsync(binDirectory, dataset, scale, $"bench_{scale}x_{round}", server, minio));
                }
            }

            Print(runs, factor);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<Run> RunOnceAsync(
        string binDirectory, string dataset, int factor, string name, NpgsqlConnectionStringBuilder server, Minio.IMinioClient minio)
    {
        string ConnectionTo(string database) => new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString;
        var databases = new[] { $"{name}_raw", $"{name}_clean" };
        await using var admin = new NpgsqlConnection(ConnectionTo("postgres"));
        await admin.OpenAsync();
        foreach (var database in databases)
        {
            await admin.ExecuteAsync($"CREATE DATABASE {database}", CancellationToken.None);
        }

        var loadBefore = BenchPlatform.LoadAverage();
        PipelineFigures pipeline;
        TrainingFigures training;
        long trainerPeak;
        await using (var platform = await BenchPlatform.StartAsync(binDirectory,
            ("ConnectionStrings__rawdata", ConnectionTo(databases[0])),
            ("ConnectionStrings__cleandata", ConnectionTo(databases[1])),
            ("Dataset__Source", dataset)))
        {
            pipeline = await IngestBenchmark.RunAsync(platform, profile: false);
            training = await TrainingBenchmark.RunAsync(platform.Trainer, platform.Mlflow, promote: false);
            trainerPeak = platform.PeakMemoryMiB("trainer");
            Console.WriteLine($"  trainer peak memory {trainerPeak} MiB");
        }

        var loadAfter = BenchPlatform.LoadAverage();
        // The next run of this file stores it again, as this one did; the databases go with their run.
        await minio.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(DatasetBucket.Bucket)
            .WithObject(DatasetBucket.ObjectKey(pipeline.Prepared.SourceSha256, Path.GetFileName(dataset))));
        foreach (var database in databases)
        {
            await admin.ExecuteAsync($"DROP DATABASE {database} WITH (FORCE)", CancellationToken.None);
        }

        return new Run(factor, pipeline.Prepared.Rows, pipeline, training, trainerPeak, loadBefore, loadAfter);
    }

    private static void Print(IReadOnlyList<Run> runs, int factor)
    {
        var small = runs.Where(r => r.Factor == 1).ToArray();
        var large = runs.Where(r => r.Factor == factor).ToArray();
        var rowsRatio = (double)large[0].Rows / small[0].Rows;
        Console.WriteLine();
        Console.WriteLine($"Cost against data size: 1× = {small[0].Rows:N0} rows, {factor}× = {large[0].Rows:N0} rows; {small.Length} run(s) each, " +
            $"alternating; each cell is the range over the runs; the last column is the ratio of the means ({rowsRatio:F2} for the rows)");
        Console.WriteLine($"Load average (1 min) at the start and end of the runs: {Range(runs.SelectMany(r => new[] { r.LoadBefore, r.LoadAfter }), "F1")}");
        Console.WriteLine();
        Console.WriteLine($"  {"",-48} {"1×",-21} {factor + "×",-21} {"ratio",6}");

        void Line(string label, Func<Run, double> figure, string format)
        {
            var ratio = large.Average(figure) / small.Average(figure);
            Console.WriteLine($"  {label,-48} {Range(small.Select(figure), format),-21} {Range(large.Select(figure), format),-21} {ratio,6:F2}");
        }

        Line("prepare, s", r => r.Pipeline.Prepare.TotalSeconds, "F2");
        Line("  rows/s (rows of the source)", r => r.Rows / r.Pipeline.Prepare.TotalSeconds, "N0");
        Line("train batches, all, s", r => r.Pipeline.BatchesTotal.TotalSeconds, "F2");
        Line("  batches", r => r.Pipeline.Batches.Count, "N0");
        Line("  per batch (mean), s", r => r.Pipeline.BatchesTotal.TotalSeconds / r.Pipeline.Batches.Count, "F2");
        Line("  slowest batch, s", r => r.Pipeline.Batches.Max().TotalSeconds, "F2");
        Line("  rows/s (train rows)", r => r.Pipeline.Prepared.Train.Rows / r.Pipeline.BatchesTotal.TotalSeconds, "N0");
        Line("clean, s", r => r.Pipeline.Clean.TotalSeconds, "F2");
        Line("  rows/s (rows cleaned)", r => r.Pipeline.CleanedRows / r.Pipeline.Clean.TotalSeconds, "N0");
        Line("pipeline (prepare + batches + clean), s", r => r.Pipeline.Total.TotalSeconds, "F2");
        Line("  rows/s (rows of the source)", r => r.Rows / r.Pipeline.Total.TotalSeconds, "N0");
        Line("ingest resident memory before the pipeline, MiB", r => r.Pipeline.StartMiB, "N0");
        Line("ingest peak memory in prepare, MiB", r => r.Pipeline.PreparePeakMiB, "N0");
        Line("ingest peak memory in the batches, MiB", r => r.Pipeline.BatchesPeakMiB, "N0");
        Line("ingest peak memory in clean, MiB", r => r.Pipeline.CleanPeakMiB, "N0");
        Line("ingest peak memory through the pipeline, MiB", r => r.Pipeline.PeakMemoryMiB, "N0");
        Line("training job, s", r => r.Training.JobSeconds, "F1");
        Line("  read CLEAN DATA, featurize, s", r => r.Training.BeforeCandidatesSeconds, "F1");
        Line("  candidates, s", r => r.Training.CandidatesSeconds, "F1");
        Line("  test, plots, importance, register, s", r => r.Training.AfterCandidatesSeconds, "F1");
        Line("  rows/s (CLEAN train rows)", r => r.Training.TrainRows / r.Training.JobSeconds, "N0");
        Line("trainer peak memory, MiB", r => r.TrainerPeakMiB, "N0");
        Line("test_roc_auc of the chosen model", r => r.Training.TestRocAuc, "F4");

        // The trainer holds the rows it trains on: its growth per 100,000 rows, from the means.
        var growth = large.Average(r => r.TrainerPeakMiB) - small.Average(r => r.TrainerPeakMiB);
        Console.WriteLine();
        Console.WriteLine($"  trainer peak memory grows {growth / ((large[0].Rows - small[0].Rows) / 100_000.0):F1} MiB per 100,000 rows of the source " +
            $"({growth / ((large[0].Training.TrainRows - small[0].Training.TrainRows) / 100_000.0):F1} MiB per 100,000 CLEAN train rows)");
    }

    private static string Range(IEnumerable<double> values, string format)
    {
        var (low, high) = (values.Min(), values.Max());
        var text = (double value) => value.ToString(format, CultureInfo.InvariantCulture);
        return text(low) == text(high) ? text(low) : $"{text(low)}–{text(high)}";
    }
}
