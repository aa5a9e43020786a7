using System.Diagnostics;

namespace Diabetes.Trainer.Training;

public enum TrainingStatus
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>A candidate as the job reports it.</summary>
public sealed record CandidateResult(string RunId, string Algorithm, string Name, IReadOnlyDictionary<string, string> Parameters, IReadOnlyDictionary<string, double> Metrics);

/// <summary>What a job is doing now.</summary>
public sealed record TrainingProgress(int CompletedCandidates, int TotalCandidates, string Stage, double ElapsedSeconds);

/// <summary>
/// One training job. Its state changes only through its methods, under a lock, so a reader always sees a
/// consistent picture (<see cref="Snapshot"/>).
/// </summary>
public sealed class TrainingJob(string id, TrainingRequest request, TimeProvider timeProvider)
{
    private readonly object _gate = new();
    private readonly List<CandidateResult> _candidates = [];
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private TrainingStatus _status = TrainingStatus.Running;
    private string? _parentRunId;
    private string? _bestRunId;
    private string? _registeredVersion;
    private string? _error;
    private string? _skipReason;
    private string _stage = "queued";
    private int _totalCandidates;
    private int _trainRows;
    private IReadOnlyList<int> _batches = [];
    private DateTimeOffset? _finishedAt;

    public string Id { get; } = id;

    /// <summary>Train even when CLEAN DATA is what the newest registered version was trained on.</summary>
    public bool Force { get; } = request.Force;

    /// <summary>Why the job was started, as its caller said (the monitoring DAG names the drift or the fall of ROC-AUC).</summary>
    public string? Reason { get; } = string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason;

    public DateTimeOffset StartedAt { get; } = timeProvider.GetUtcNow();

    public bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _status == TrainingStatus.Running;
            }
        }
    }

    public void Started(string parentRunId, int trainRows, IReadOnlyList<int> batches, int totalCandidates) => Update(() =>
    {
        _parentRunId = parentRunId;
        _trainRows = trainRows;
        _batches = batches;
        _totalCandidates = totalCandidates;
    });

    public void SetParentRun(string parentRunId) => Update(() => _parentRunId = parentRunId);

    public void Stage(string stage) => Update(() => _stage = stage);

    public void CandidateFinished(CandidateResult candidate) => Update(() => _candidates.Add(candidate));

    public void Succeeded(string bestRunId, string registeredVersion) => Update(() =>
    {
        _bestRunId = bestRunId;
        _registeredVersion = registeredVersion;
        _status = TrainingStatus.Succeeded;
        _stage = "done";
        _finishedAt = timeProvider.GetUtcNow();
    });

    /// <summary>Ends the job without training: nothing registered, for <paramref name="reason"/>.</summary>
    public void Skipped(string reason) => Update(() =>
    {
        _skipReason = reason;
        _status = TrainingStatus.Succeeded;
        _stage = "skipped";
        _finishedAt = timeProvider.GetUtcNow();
    });

    public void Failed(string error) => Update(() =>
    {
        _error = error;
        _status = TrainingStatus.Failed;
        _finishedAt = timeProvider.GetUtcNow();
    });

    public TrainingJobResponse Snapshot()
    {
        lock (_gate)
        {
            return new TrainingJobResponse(Id, _status.ToString(), _parentRunId, [.. _candidates], _bestRunId, _registeredVersion, _error,
                new TrainingProgress(_candidates.Count, _totalCandidates, _stage, Math.Round(_elapsed.Elapsed.TotalSeconds, 1)),
                _trainRows, _batches, StartedAt, _finishedAt, _skipReason is not null, _skipReason, Reason);
        }
    }

    private void Update(Action change)
    {
        lock (_gate)
        {
            change();
        }
    }
}

/// <summary>
/// Answer of <c>GET /api/trainings/{id}</c> (and of <c>POST /api/trainings</c>). A job that found nothing new to train on
/// succeeds with <c>skipped</c> and says why in <c>skipReason</c>, and registers nothing. <c>reason</c> is why it was
/// started, when its request said.
/// </summary>
public sealed record TrainingJobResponse(
    string Id,
    string Status,
    string? ParentRunId,
    IReadOnlyList<CandidateResult> Candidates,
    string? BestRunId,
    string? RegisteredVersion,
    string? Error,
    TrainingProgress Progress,
    int TrainRows,
    IReadOnlyList<int> Batches,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    bool Skipped,
    string? SkipReason,
    string? Reason);

/// <summary>
/// Body of <c>POST /api/trainings</c>, which may be left out: <c>force</c> trains even over unchanged CLEAN DATA;
/// <c>reason</c>, at most <see cref="MaxReasonLength"/> characters, is kept on the job's MLflow run
/// (<see cref="TrainingWorkflow.TriggerReasonTag"/>).
/// </summary>
public sealed record TrainingRequest(bool Force = false, string? Reason = null)
{
    public const int MaxReasonLength = 1_000;
}
