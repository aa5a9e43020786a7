using System.Globalization;
using Diabetes.Core.Mlflow;
using Npgsql;

namespace Diabetes.Trainer.Training;

/// <summary>
/// Training jobs as MLflow keeps them, for a job this process does not hold (it ran before a restart, or in another
/// trainer): the parent run tagged with the job's id, and its candidate runs. A run still RUNNING whose lease no trainer
/// holds (<see cref="JobLeases"/>) reads Failed at once, before a reconciler marks it so.
/// </summary>
public sealed class TrainingJobHistory(MlflowClient mlflow, JobLeases leases, TimeProvider timeProvider, ILogger<TrainingJobHistory> logger)
{
    public const string StoppedReason = "The trainer stopped during this job (restart or crash); start a new job.";

    /// <summary>Every run of the job, parent and candidates.</summary>
    public Task<IReadOnlyList<Run>> RunsAsync(string jobId, CancellationToken cancellationToken) =>
        mlflow.SearchRunsAsync(TrainingWorkflow.ExperimentName,
            $"tags.`{TrainingWorkflow.JobTag}` = '{jobId.Replace("'", "", StringComparison.Ordinal)}'", cancellationToken);

    /// <summary>The job, or null when MLflow knows no job of that id.</summary>
    public async Task<TrainingJobResponse?> FindAsync(string jobId, CancellationToken cancellationToken)
    {
        var runs = await RunsAsync(jobId, cancellationToken);
        var parent = ParentOf(runs);
        if (parent is null)
        {
            return null;
        }

        var held = parent.Info.Status != MlflowNames.Running || await IsHeldAsync(jobId, cancellationToken);
        if (!held)
        {
            // The holder ends its run before it lets go of the lease: a lease let go of may belong to a run that ended
            // since it was read, so the runs are read again, after the lease.
            runs = await RunsAsync(jobId, cancellationToken);
            parent = ParentOf(runs)!;
        }

        var candidates = runs.Where(r => r.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.CandidateRole && r.Info.Status == MlflowNames.Finished)
            .OrderBy(r => r.Info.StartTime)
            .Select(Candidate)
            .ToArray();
        var (status, error) = StatusOf(parent, held);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(parent.Info.StartTime);
        DateTimeOffset? finished = parent.Info.EndTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : null;
        var data = parent.Data;
        return new TrainingJobResponse(jobId, status.ToString(), parent.Info.RunId, candidates, data?.Tag(TrainingWorkflow.BestRunTag),
            data?.Tag(TrainingWorkflow.RegisteredVersionTag), error,
            new TrainingProgress(candidates.Length, Number(data?.ParamValue("candidates")), status == TrainingStatus.Running ? "running in another trainer process" : "done",
                Math.Round(((finished ?? timeProvider.GetUtcNow()) - started).TotalSeconds, 1)),
            Number(data?.ParamValue("train_rows")),
            [.. (data?.Tag("batches") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Number).Where(b => b > 0)],
            started, finished, data?.Tag(TrainingWorkflow.SkippedTag) is not null, data?.Tag(TrainingWorkflow.SkippedTag),
            data?.Tag(TrainingWorkflow.TriggerReasonTag));
    }

    private static Run? ParentOf(IReadOnlyList<Run> runs) => runs.FirstOrDefault(r => r.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.JobRole);

    private static (TrainingStatus Status, string? Error) StatusOf(Run parent, bool held) => parent.Info.Status switch
    {
        MlflowNames.Finished => (TrainingStatus.Succeeded, null),
        MlflowNames.Running => held ? (TrainingStatus.Running, null) : (TrainingStatus.Failed, StoppedReason),
        var other => (TrainingStatus.Failed, parent.Data?.Tag(TrainingWorkflow.ErrorTag) ?? $"The job's run ended {other}."),
    };

    /// <summary>Whether a trainer holds the job's lease; when PostgreSQL cannot say, MLflow's RUNNING is believed.</summary>
    private async Task<bool> IsHeldAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            return await leases.StateAsync(jobId, cancellationToken) == JobLeaseState.Held;
        }
        catch (NpgsqlException exception)
        {
            logger.LogWarning("Could not read the lease of training job {JobId} ({Error}); it is answered as MLflow has it, running", jobId, exception.Message);
            return true;
        }
    }

    private static CandidateResult Candidate(Run run)
    {
        var data = run.Data;
        var algorithm = data?.Tag("algorithm") ?? "";
        return new CandidateResult(run.Info.RunId, algorithm, data?.Tag(TrainingWorkflow.CandidateTag) ?? algorithm,
            (data?.Params ?? []).Where(p => p.Key != "algorithm").ToDictionary(p => p.Key, p => p.Value),
            (data?.Metrics ?? []).Where(m => m.Key.StartsWith("val_", StringComparison.Ordinal) || m.Key == "train_seconds").ToDictionary(m => m.Key, m => m.Value));
    }

    private static int Number(string? text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;
}
