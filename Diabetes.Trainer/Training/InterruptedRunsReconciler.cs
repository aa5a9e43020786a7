using Diabetes.Core.Mlflow;
using Microsoft.Extensions.Options;

namespace Diabetes.Trainer.Training;

/// <summary>
/// Marks FAILED, with the reason, the runs of jobs whose trainer is gone (stopped, crashed, or cut off from PostgreSQL
/// for longer than <see cref="TrainingOptions.LeaseDuration"/>), so that MLflow never shows a job as running forever.
/// A job is its lease holder's (<see cref="JobLeases"/>): this trainer touches one only once its lease has expired,
/// and only after taking the lease over itself, which one trainer alone can; a job run with no lease at all comes from
/// a trainer that kept none, and is taken over the same way. A job of a live trainer is left alone however long its
/// runs stay silent in MLflow. Runs left RUNNING under a job that ended are failed too. Looks every
/// <see cref="TrainingOptions.LeaseRenewInterval"/>; MLflow or PostgreSQL down is logged and tried again at the next
/// (a job taken over but not yet failed stays this trainer's until its new lease expires, and is then taken again).
/// </summary>
public sealed class InterruptedRunsReconciler(MlflowClient mlflow, JobLeases leases, TrainingJobHistory history, IOptions<TrainingOptions> options,
    ILogger<InterruptedRunsReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LeaseRenewInterval);
        do
        {
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not look for interrupted training jobs in MLflow and PostgreSQL ({Error}); trying again in {Interval}",
                    exception.Message, options.Value.LeaseRenewInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var running = await mlflow.SearchRunsAsync(TrainingWorkflow.ExperimentName, $"attributes.status = '{MlflowNames.Running}'", cancellationToken);
        var runningJobs = running.Select(r => r.Data?.Tag(TrainingWorkflow.JobTag)).OfType<string>().ToHashSet();
        // Expired leases come along even without a RUNNING run: taken over and ended, they stop coming back.
        var states = await leases.StatesAsync(runningJobs, cancellationToken);
        foreach (var jobId in runningJobs.Union(states.Keys))
        {
            switch (states.GetValueOrDefault(jobId))
            {
                case JobLeaseState.Held:
                    break;
                case JobLeaseState.Ended:
                    // Nobody writes to an ended job: a run it left RUNNING is failed by whoever sees it.
                    await FailRunningRunsAsync(jobId, cancellationToken);
                    break;
                default:
                    if (await leases.TryTakeOverAsync(jobId, cancellationToken))
                    {
                        var failed = await FailRunningRunsAsync(jobId, cancellationToken);
                        await leases.EndAsync(jobId, cancellationToken);
                        logger.LogWarning("Took over training job {JobId}, whose lease had expired (or that had none), and marked its {Failed} running runs FAILED", jobId, failed);
                    }

                    break;
            }
        }
    }

    /// <summary>Fails the job's runs that MLflow still has RUNNING, as of now: the search above is a moment old.</summary>
    private async Task<int> FailRunningRunsAsync(string jobId, CancellationToken cancellationToken)
    {
        var reason = TrainingJobHistory.StoppedReason;
        var running = (await history.RunsAsync(jobId, cancellationToken)).Where(r => r.Info.Status == MlflowNames.Running).ToArray();
        foreach (var run in running)
        {
            await mlflow.LogAsync(run.Info.RunId, tags: new Dictionary<string, string> { [TrainingWorkflow.ErrorTag] = reason, [MlflowNames.NoteTag] = $"Failed: {reason}" },
                cancellationToken: cancellationToken);
            await mlflow.EndRunAsync(run.Info.RunId, MlflowNames.Failed, cancellationToken);
            logger.LogWarning("Marked interrupted training run {RunId} ({Role}) of job {JobId} FAILED", run.Info.RunId, run.Data?.Tag(TrainingWorkflow.RoleTag), jobId);
        }

        return running.Length;
    }
}
