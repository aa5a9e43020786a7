using Diabetes.Core.Hosting;
using Diabetes.Core.Mlflow;

namespace Diabetes.Trainer.Training;

/// <summary>
/// At start-up, marks FAILED the job and candidate runs a previous trainer process left RUNNING (it stopped or crashed
/// mid-job), with the reason, so that MLflow never shows a job as running forever. Only runs started before this
/// process are touched: a job started meanwhile is alive. Waits for MLflow if it is not up yet.
/// </summary>
public sealed class InterruptedRunsReconciler(MlflowClient mlflow, TimeProvider timeProvider, ILogger<InterruptedRunsReconciler> logger)
    : StartUpTask(logger)
{
    private const string Reason = "The trainer stopped during this job (restart or crash); start a new job.";

    private readonly long _startedAt = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    protected override string Description => "check MLflow for interrupted training runs";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
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
