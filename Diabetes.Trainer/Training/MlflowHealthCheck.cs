using Diabetes.Core.Mlflow;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Diabetes.Trainer.Training;

/// <summary>Ready only while the MLflow server answers <c>/health</c>.</summary>
public sealed class MlflowHealthCheck(IMlflowApi mlflow) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await mlflow.HealthAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The MLflow server does not answer.", exception);
        }
    }
}

/// <summary>
/// At start-up, marks FAILED the job runs a previous trainer process left RUNNING (it stopped or crashed mid-job), with
/// the reason, so that MLflow never shows a job as running forever. Waits for MLflow if it is not up yet.
/// </summary>
public sealed class InterruptedRunsReconciler(MlflowClient mlflow, ILogger<InterruptedRunsReconciler> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
                return;
            }
            catch (Exception exception) when (exception is HttpRequestException or MlflowException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
            {
                logger.LogWarning("MLflow is not reachable to check for interrupted training runs ({Error}); trying again in {Delay}", exception.Message, RetryDelay);
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

        var running = await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([experimentId],
            $"attributes.status = '{MlflowNames.Running}' AND tags.`{TrainingWorkflow.RoleTag}` = 'training-job'"), cancellationToken);
        foreach (var run in running.Runs ?? [])
        {
            const string reason = "The trainer stopped during this job (restart or crash); start a new job.";
            await mlflow.LogAsync(run.Info.RunId, tags: new Dictionary<string, string> { [TrainingWorkflow.ErrorTag] = reason, [MlflowNames.NoteTag] = $"Failed: {reason}" },
                cancellationToken: cancellationToken);
            await mlflow.EndRunAsync(run.Info.RunId, MlflowNames.Failed, cancellationToken);
            logger.LogWarning("Marked interrupted training run {RunId} FAILED", run.Info.RunId);
        }
    }
}
