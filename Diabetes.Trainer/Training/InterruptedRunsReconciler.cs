using Diabetes.Core.Mlflow;
using Microsoft.Extensions.Options;

namespace Diabetes.Trainer.Training;

/// <summary>
/// Marks FAILED, with the reason, the job runs whose trainer stopped (restart or crash) and their candidate runs, so
/// that MLflow never shows a job as running forever. A run is the trainer's to fail only when its heartbeat is three
/// intervals old: a job of another live trainer, or of this one, beats and is left alone. Looks at every heartbeat
/// interval; MLflow down is logged and tried again at the next.
/// </summary>
public sealed class InterruptedRunsReconciler(MlflowClient mlflow, TrainingJobHistory history, TrainingJobs jobs, IOptions<TrainingOptions> options,
    ILogger<InterruptedRunsReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        do
        {
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not check MLflow for interrupted training runs ({Error}); trying again in {Interval}",
                    exception.Message, options.Value.HeartbeatInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var running = await mlflow.SearchRunsAsync(TrainingWorkflow.ExperimentName, $"attributes.status = '{MlflowNames.Running}'", cancellationToken);
        // This process's own job is alive whatever its heartbeat says (a beat can be late on a busy machine).
        var ownJob = jobs.RunningJobId;
        var jobRuns = running.Where(r => r.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.JobRole).ToArray();
        var liveJobs = jobRuns.Where(j => !history.HeartbeatExpired(j) || (ownJob is not null && j.Data!.Tag(TrainingWorkflow.JobTag) == ownJob))
            .Select(j => j.Data!.Tag(TrainingWorkflow.JobTag)).ToHashSet();
        var interrupted = jobRuns.Where(j => !liveJobs.Contains(j.Data!.Tag(TrainingWorkflow.JobTag)))
            // A candidate belongs to its job: interrupted with it, or left over from a job that is not running at all.
            .Concat(running.Where(r => r.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.CandidateRole
                && !liveJobs.Contains(r.Data.Tag(TrainingWorkflow.JobTag))));
        foreach (var run in interrupted)
        {
            // The search is a moment old: a run that ended since, or whose job beat since, is left as it is.
            var fresh = (await mlflow.Api.GetRunAsync(run.Info.RunId, cancellationToken)).Run;
            if (fresh.Info.Status != MlflowNames.Running || (fresh.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.JobRole && !history.HeartbeatExpired(fresh)))
            {
                continue;
            }

            var reason = TrainingJobHistory.StoppedReason;
            await mlflow.LogAsync(run.Info.RunId, tags: new Dictionary<string, string> { [TrainingWorkflow.ErrorTag] = reason, [MlflowNames.NoteTag] = $"Failed: {reason}" },
                cancellationToken: cancellationToken);
            await mlflow.EndRunAsync(run.Info.RunId, MlflowNames.Failed, cancellationToken);
            logger.LogWarning("Marked interrupted training run {RunId} ({Role}) FAILED", run.Info.RunId, run.Data?.Tag(TrainingWorkflow.RoleTag));
        }
    }
}
