using Diabetes.Core.Mlflow;

namespace Diabetes.Trainer.Training;

/// <summary>
/// At start-up, marks FAILED the job and candidate runs a previous trainer process left RUNNING (it stopped or crashed
/// mid-job), with the reason, so that MLflow never shows a job as running forever. Only runs started before this
/// process are touched: a job started meanwhile is alive. Waits for MLflow if it is not up yet.
/// </summary>
public sealed class InterruptedRunsReconciler(MlflowClient mlflow, TimeProvider timeProvider, ILogger<InterruptedRunsReconciler> logger) : BackgroundService
{
    private const string Reason = "The trainer stopped during this job (restart or crash); start a new job.";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(15);

    private readonly long _startedAt = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not check MLflow for interrupted training runs ({Error}); trying again in {Delay}", exception.Message, RetryDelay);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        string experimentId;
        try
        {
            experimentId = (await mlflow.Api.GetExperimentByNameAsync(TrainingWorkflow.ExperimentName, cancellationToken)).Experiment.ExperimentId;
        }
        catch (MlflowResourceNotFoundException)
        {
            return;
        }

        foreach (var role in new[] { TrainingWorkflow.JobRole, TrainingWorkflow.CandidateRole })
        {
            var running = await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([experimentId],
                $"attributes.status = '{MlflowNames.Running}' AND tags.`{TrainingWorkflow.RoleTag}` = '{role}'"), cancellationToken);
            foreach (var run in (running.Runs ?? []).Where(r => r.Info.StartTime < _startedAt))
            {
                await mlflow.LogAsync(run.Info.RunId, tags: new Dictionary<string, string> { [TrainingWorkflow.ErrorTag] = Reason, [MlflowNames.NoteTag] = $"Failed: {Reason}" },
                    cancellationToken: cancellationToken);
                await mlflow.EndRunAsync(run.Info.RunId, MlflowNames.Failed, cancellationToken);
                logger.LogWarning("Marked interrupted training run {RunId} ({Role}) FAILED", run.Info.RunId, role);
            }
        }
    }
}
