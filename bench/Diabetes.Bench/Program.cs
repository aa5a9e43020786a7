using Diabetes.Bench;

// Times the data pipeline and a training job on the real dataset, against the services started as processes
// (Release builds), and prints the figures. bench/run.sh starts PostgreSQL and the S3 server and calls this with
// the services' configuration keys in the environment (ConnectionStrings__rawdata, __cleandata, __minio,
// Dataset__Source). MLflow is the test double of its REST API, in this process.
// With "cv", it scores the candidates in patient-grouped cross-validation instead, in this process, with no service.
// With "serving", it loads the inference API with wrk, a model swap included (ServingBenchmark).
if (args is ["cv", var datasetPath])
{
    CrossValidationBenchmark.Run(datasetPath);
    return 0;
}

if (args is ["serving", var servingBin, var servingDataset])
{
    await using var serving = await BenchPlatform.StartAsync();
    await ServingBenchmark.RunAsync(serving, servingBin, servingDataset);
    return 0;
}

if (args is [var pipelineBin, "pipeline"])
{
    await using var pipeline = await BenchPlatform.StartAsync(pipelineBin);
    var seconds = (await IngestBenchmark.RunAsync(pipeline.Ingest)).TotalSeconds;
    Console.WriteLine($"  prepare + all batches + clean: {seconds:F2} s; peak memory of the ingest service {pipeline.PeakMemoryMiB("ingest")} MiB");
    return 0;
}

if (args is not [var binDirectory])
{
    Console.Error.WriteLine("usage: Diabetes.Bench <artifacts/bin folder of the Release builds> | Diabetes.Bench cv <dataset zip> | Diabetes.Bench serving <artifacts/bin folder> <dataset zip>");
    return 2;
}

await using var platform = await BenchPlatform.StartAsync(binDirectory);
var ingest = await IngestBenchmark.RunAsync(platform.Ingest);
var training = await TrainingBenchmark.RunAsync(platform.Trainer, platform.Mlflow);
Console.WriteLine();
Console.WriteLine("Goals on this machine:");
Console.WriteLine($"  prepare + all batches + clean under 10 s: {ingest.TotalSeconds:F2} s {(ingest.TotalSeconds < 10 ? "met" : "MISSED")}");
Console.WriteLine($"  whole training job under 180 s: {training.JobSeconds:F1} s {(training.JobSeconds < 180 ? "met" : "MISSED")}");
Console.WriteLine($"  test_roc_auc (accepted at 0.6745; a Python peer scores 0.670 on the same split): {training.TestRocAuc:F4}");
Console.WriteLine($"  peak memory: ingest {platform.PeakMemoryMiB("ingest")} MiB, trainer {platform.PeakMemoryMiB("trainer")} MiB");
return 0;
