using Diabetes.Bench;

// Times the data pipeline and a training job on the real dataset, against the services started as processes
// (Release builds), and prints the figures. bench/run.sh starts PostgreSQL and the S3 server and calls this with
// the services' configuration keys in the environment (ConnectionStrings__rawdata, __cleandata, __minio,
// Dataset__Source). MLflow is the test double of its REST API, in this process.
// With "cv", it scores the candidates in patient-grouped cross-validation instead, in this process, with no service.
// With "serving", it loads the inference API with wrk, a model swap included, the prediction log off and on, and times
// the drift query over 1,000,000 logged predictions (ServingBenchmark); with "drift", that query alone (DriftBenchmark).
// Both take the connection string of an empty database for the prediction log.
// With "scale N rounds", it runs the pipeline and a training job on the real dataset and on an N-times one, rounds times
// each, on databases of its own on the same server (ScaleBenchmark).
// With "traffic", it sends encounters of a split to a running inference API (TrafficReplay; its options in TrafficOptions).
if (args is ["traffic", .. var trafficArgs])
{
    return await TrafficReplay.RunCommandAsync(trafficArgs);
}

if (args is ["cv", var datasetPath])
{
    CrossValidationBenchmark.Run(datasetPath);
    return 0;
}

if (args is ["serving", var servingBin, var servingDataset, var servingLog])
{
    await using var serving = await BenchPlatform.StartAsync();
    await ServingBenchmark.RunAsync(serving, servingBin, servingDataset, servingLog);
    return 0;
}

if (args is ["drift", var driftBin, var driftDataset, var driftLog])
{
    await using var drift = await BenchPlatform.StartAsync();
    var figures = await DriftBenchmark.RunAloneAsync(drift, driftBin, driftDataset, driftLog);
    figures.PrintGoal();
    return 0;
}

if (args is [var scaleBin, "scale", var factor, var rounds, var scaleDataset])
{
    await ScaleBenchmark.RunAsync(scaleBin, scaleDataset, int.Parse(factor), int.Parse(rounds));
    return 0;
}

if (args is [var pipelineBin, "pipeline"])
{
    await using var pipeline = await BenchPlatform.StartAsync(pipelineBin);
    var figures = await IngestBenchmark.RunAsync(pipeline);
    Console.WriteLine($"  prepare + all batches + clean: {figures.Total.TotalSeconds:F2} s; peak memory of the ingest service {figures.PeakMemoryMiB} MiB");
    return 0;
}

if (args is not [var binDirectory])
{
    Console.Error.WriteLine("usage: Diabetes.Bench <artifacts/bin folder of the Release builds> [pipeline] | Diabetes.Bench <artifacts/bin folder> scale <N> <rounds> <dataset zip> | " +
        "Diabetes.Bench cv <dataset zip> | Diabetes.Bench serving|drift <artifacts/bin folder> <dataset zip> <prediction log's connection string> | " +
        "Diabetes.Bench traffic --url <inference API> [options]");
    return 2;
}

await using var platform = await BenchPlatform.StartAsync(binDirectory);
var ingest = await IngestBenchmark.RunAsync(platform);
var training = await TrainingBenchmark.RunAsync(platform.Trainer, platform.Mlflow);
Console.WriteLine();
Console.WriteLine("Goals on this machine:");
Goal("prepare + all batches + clean", ingest.Total.TotalSeconds, "s", 2);
Goal("peak memory of the ingest service through the pipeline", ingest.PeakMemoryMiB, "MiB", 300);
Goal("whole training job", training.JobSeconds, "s", 90);
Goal("peak memory of the trainer", platform.PeakMemoryMiB("trainer"), "MiB", 600);
Console.WriteLine($"  test_roc_auc (accepted at 0.6745; a Python peer scores 0.670 on the same split): {training.TestRocAuc:F4}");
return 0;

static void Goal(string figure, double measured, string unit, double atMost) =>
    Console.WriteLine($"  {figure} at most {atMost:G} {unit}: {measured:0.##} {unit} {(measured <= atMost ? "met" : "MISSED")}");
