using System.Globalization;
using Diabetes.Core.Mlflow;

namespace Diabetes.Trainer.Training;

/// <summary>
/// Training jobs as MLflow keeps them, for a job this process does not hold (it ran before a restart, or in another
/// trainer): the parent run tagged with the job's id, and its candidate runs. A run still RUNNING whose trainer stopped
/// beating (<see cref="TrainingOptions.HeartbeatInterval"/>) reads Failed at once, before the reconciler marks it so.
/// </summary>
public sealed class TrainingJobHistory(MlflowClient mlflow, Microsoft.Extensions.Options.IOptions<TrainingOptions> options, TimeProvider timeProvider)
{
    public const string StoppedReason = "The trainer stopped during this job (restart or crash); start a new job.";

    /// <summary>The job, or null when MLflow knows no job of that id.</summary>
    public async Task<TrainingJobResponse?> FindAsync(string jobId, CancellationToken cancellationToken)
    {
        var runs = await mlflow.SearchRunsAsync(TrainingWorkflow.ExperimentName,
            $"tags.`{TrainingWorkflow.JobTag}` = '{jobId.Replace("'", "", StringComparison.Ordinal)}'", cancellationToken);
        var parent = runs.FirstOrDefault(r => r.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.JobRole);
        if (parent is null)
        {
            return null;
        }

        var candidates = runs.Where(r => r.Data?.Tag(TrainingWorkflow.RoleTag) == TrainingWorkflow.CandidateRole && r.Info.Status == MlflowNames.Finished)
            .OrderBy(r => r.Info.StartTime)
            .Select(Candidate)
            .ToArray();
        var (status, error) = StatusOf(parent);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(parent.Info.StartTime);
        DateTimeOffset? finished = parent.Info.EndTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : null;
        var data = parent.Data;
        return new TrainingJobResponse(jobId, status.ToString(), parent.Info.RunId, candidates, data?.Tag(TrainingWorkflow.BestRunTag),
            data?.Tag(TrainingWorkflow.RegisteredVersionTag), error,
            new TrainingProgress(candidates.Length, Number(data?.ParamValue("candidates")), status == TrainingStatus.Running ? "running in another trainer process" : "done",
                Math.Round(((finished ?? timeProvider.GetUtcNow()) - started).TotalSeconds, 1)),
            Number(data?.ParamValue("train_rows")),
            [.. (data?.Tag("batches") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Number).Where(b => b > 0)],
            started, finished);
    }

    /// <summary>
    /// True when a RUNNING job run's trainer has not beaten for three of its intervals (the longer of the writer's and
    /// this trainer's): it stopped.
    /// </summary>
    public bool HeartbeatExpired(Run run)
    {
        var lastSign = long.TryParse(run.Data?.Tag(TrainingWorkflow.HeartbeatTag), NumberStyles.Integer, CultureInfo.InvariantCulture, out var beat)
            ? beat
            : run.Info.StartTime;
        var interval = Math.Max(options.Value.HeartbeatInterval.TotalMilliseconds,
            long.TryParse(run.Data?.Tag(TrainingWorkflow.HeartbeatIntervalTag), NumberStyles.Integer, CultureInfo.InvariantCulture, out var written) ? written : 0);
        return timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - lastSign > 3 * interval;
    }

    private (TrainingStatus Status, string? Error) StatusOf(Run parent) => parent.Info.Status switch
    {
        MlflowNames.Finished => (TrainingStatus.Succeeded, null),
        MlflowNames.Running when HeartbeatExpired(parent) => (TrainingStatus.Failed, StoppedReason),
        MlflowNames.Running => (TrainingStatus.Running, null),
        var other => (TrainingStatus.Failed, parent.Data?.Tag(TrainingWorkflow.ErrorTag) ?? $"The job's run ended {other}."),
    };

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
