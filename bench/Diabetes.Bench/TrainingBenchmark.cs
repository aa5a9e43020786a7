using System.Diagnostics;
using System.Net.Http.Json;
using Diabetes.MlflowDouble;
using Diabetes.Trainer.Promotion;
using Diabetes.Trainer.Training;

namespace Diabetes.Bench;

public sealed record TrainingFigures(double JobSeconds, double TestRocAuc);

/// <summary>A training job on all CLEAN train rows: its wall time, each candidate's, and the chosen model's metrics.</summary>
public static class TrainingBenchmark
{
    public static async Task<TrainingFigures> RunAsync(HttpClient trainer, MlflowServerDouble mlflow)
    {
        var stopwatch = Stopwatch.StartNew();
        var started = await IngestBenchmark.PostAsync<TrainingJobResponse>(trainer, "api/trainings");
        TrainingJobResponse job;
        do
        {
            await Task.Delay(500);
            job = (await trainer.GetFromJsonAsync<TrainingJobResponse>($"api/trainings/{started.Id}"))!;
        }
        while (job.Status == nameof(TrainingStatus.Running));

        var jobSeconds = stopwatch.Elapsed.TotalSeconds;
        if (job.Status != nameof(TrainingStatus.Succeeded))
        {
            throw new InvalidOperationException($"The training job failed: {job.Error}");
        }

        using var runs = new HttpClient { BaseAddress = mlflow.BaseAddress };
        Console.WriteLine();
        Console.WriteLine($"Training job on {job.TrainRows:N0} CLEAN train rows (batches {string.Join(",", job.Batches)}): {jobSeconds:F1} s wall time");
        Console.WriteLine($"  {"candidate",-92} {"wall s",7} {"fit s",7} {"val_roc_auc",11} {"val_pr_auc",10}");
        foreach (var candidate in job.Candidates)
        {
            var run = (await runs.GetFromJsonAsync<RunEnvelope>($"/api/2.0/mlflow/runs/get?run_id={candidate.RunId}", Diabetes.Core.Mlflow.MlflowClientExtensions.JsonOptions))!.Run;
            var wall = (run.Info.EndTime!.Value - run.Info.StartTime) / 1000.0;
            Console.WriteLine($"  {candidate.Name,-92} {wall,7:F1} {candidate.Metrics["train_seconds"],7:F1} {candidate.Metrics["val_roc_auc"],11:F4} {candidate.Metrics["val_pr_auc"],10:F4}");
        }

        var best = (await runs.GetFromJsonAsync<RunEnvelope>($"/api/2.0/mlflow/runs/get?run_id={job.BestRunId}", Diabetes.Core.Mlflow.MlflowClientExtensions.JsonOptions))!.Run;
        var testAuc = best.Data!.MetricValue("test_roc_auc")!.Value;
        Console.WriteLine($"  chosen: {best.Data.Tag("algorithm")} ({best.Info.RunName}), val_roc_auc {best.Data.MetricValue("val_roc_auc"):F4}, " +
            $"val_pr_auc {best.Data.MetricValue("val_pr_auc"):F4}, test_roc_auc {testAuc:F4}, test_pr_auc {best.Data.MetricValue("test_pr_auc"):F4}, registered version {job.RegisteredVersion}");

        var promotion = await IngestBenchmark.PostAsync<PromotionResponse>(trainer, "api/promotions");
        Console.WriteLine($"  promotion: {promotion.Reason}");
        return new TrainingFigures(jobSeconds, testAuc);
    }

    private sealed record RunEnvelope(Diabetes.Core.Mlflow.Run Run);
}
