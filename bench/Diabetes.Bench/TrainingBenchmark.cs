using System.Diagnostics;
using System.Net.Http.Json;
using Diabetes.MlflowDouble;
using Diabetes.Trainer.Promotion;
using Diabetes.Trainer.Training;

namespace Diabetes.Bench;

/// <summary>
/// A training job's wall time and its phases: before the first candidate (read CLEAN DATA, featurize), the candidates,
/// and after the last (test, plots, importance, register); the CLEAN train rows it read and the chosen model's test score.
/// </summary>
public sealed record TrainingFigures(
    double JobSeconds, int TrainRows, double BeforeCandidatesSeconds, double CandidatesSeconds, double AfterCandidatesSeconds, double TestRocAuc);

/// <summary>A training job on all CLEAN train rows: its wall time, each candidate's, and the chosen model's metrics.</summary>
public static class TrainingBenchmark
{
    /// <param name="promote">Whether to ask for a promotion after the job (no part of the job's figures).</param>
    public static async Task<TrainingFigures> RunAsync(HttpClient trainer, MlflowServerDouble mlflow, bool promote = true)
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
        var candidateRuns = new List<Diabetes.Core.Mlflow.Run>();
        foreach (var candidate in job.Candidates)
        {
            var run = await GetRunAsync(runs, candidate.RunId);
            candidateRuns.Add(run);
            Console.WriteLine($"  {candidate.Name,-92} {Seconds(run.Info.StartTime, run.Info.EndTime!.Value),7:F1} {candidate.Metrics["train_seconds"],7:F1} {candidate.Metrics["val_roc_auc"],11:F4} {candidate.Metrics["val_pr_auc"],10:F4}");
        }

        // The job's own run spans it all: what comes before the first candidate and after the last is read, featurize, test and register.
        var parent = await GetRunAsync(runs, job.ParentRunId!);
        var before = Seconds(parent.Info.StartTime, candidateRuns[0].Info.StartTime);
        var candidates = Seconds(candidateRuns[0].Info.StartTime, candidateRuns[^1].Info.EndTime!.Value);
        var after = Seconds(candidateRuns[^1].Info.EndTime!.Value, parent.Info.EndTime!.Value);
        Console.WriteLine($"  before the candidates (read CLEAN DATA, featurize) {before:F1} s; candidates {candidates:F1} s; " +
            $"after them (test, plots, importance, register) {after:F1} s");

        var best = await GetRunAsync(runs, job.BestRunId!);
        var testAuc = best.Data!.MetricValue("test_roc_auc")!.Value;
        Console.WriteLine($"  chosen: {best.Data.Tag("algorithm")} ({best.Info.RunName}), val_roc_auc {best.Data.MetricValue("val_roc_auc"):F4}, " +
            $"val_pr_auc {best.Data.MetricValue("val_pr_auc"):F4}, test_roc_auc {testAuc:F4}, test_pr_auc {best.Data.MetricValue("test_pr_auc"):F4}, registered version {job.RegisteredVersion}");

        if (promote)
        {
            var promotion = await IngestBenchmark.PostAsync<PromotionResponse>(trainer, "api/promotions");
            Console.WriteLine($"  promotion: {promotion.Reason}");
        }

        return new TrainingFigures(jobSeconds, job.TrainRows, before, candidates, after, testAuc);
    }

    private static async Task<Diabetes.Core.Mlflow.Run> GetRunAsync(HttpClient runs, string runId) =>
        (await runs.GetFromJsonAsync<RunEnvelope>($"/api/2.0/mlflow/runs/get?run_id={runId}", Diabetes.Core.Mlflow.MlflowClientExtensions.JsonOptions))!.Run;

    private static double Seconds(long startMilliseconds, long endMilliseconds) => (endMilliseconds - startMilliseconds) / 1000.0;

    private sealed record RunEnvelope(Diabetes.Core.Mlflow.Run Run);
}
