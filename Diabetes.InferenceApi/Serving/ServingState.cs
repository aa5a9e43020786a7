namespace Diabetes.InferenceApi.Serving;

/// <summary>What the last look at MLflow found: when it last answered, and since when it has not.</summary>
public sealed record MlflowContact(DateTimeOffset? LastAnsweredAt, DateTimeOffset? UnreachableSince, string? LastError)
{
    public bool Reachable => UnreachableSince is null && LastAnsweredAt is not null;
}

/// <summary>What the registry holds: the version in Production at the last look (none: no version holds it).</summary>
public sealed record RegistryView(string? ProductionVersion, string? ProductionIdentity, DateTimeOffset SeenAt);

/// <summary>A Production version that could not be put in service, and why.</summary>
public sealed record LoadProblem(string Version, string Reason, bool Rejected, DateTimeOffset At);

/// <summary>
/// The model being served and what the watcher (the only writer) last found, shared with the requests and the health
/// check. Each is one reference, replaced whole: a request reads the model once and uses that one to the end, so a
/// swap never fails or holds up a request.
/// </summary>
public sealed class ServingState
{
    private ServedModel? _model;
    private MlflowContact _mlflow = new(null, null, null);
    private RegistryView? _registry;
    private LoadProblem? _problem;

    public ServedModel? Model => Volatile.Read(ref _model);

    public MlflowContact Mlflow => Volatile.Read(ref _mlflow);

    /// <summary>The registry at the last look that MLflow answered; <c>null</c> before the first.</summary>
    public RegistryView? Registry => Volatile.Read(ref _registry);

    /// <summary>Why the registry's Production version is not the one served, when it failed to load; null otherwise.</summary>
    public LoadProblem? Problem => Volatile.Read(ref _problem);

    /// <summary>Puts <paramref name="next"/> in service and answers the model it replaces.</summary>
    public ServedModel? Swap(ServedModel next)
    {
        Volatile.Write(ref _problem, null);
        return Interlocked.Exchange(ref _model, next);
    }

    public void RegistryAnswered(Diabetes.Core.Mlflow.ModelVersion? production, DateTimeOffset at)
    {
        Volatile.Write(ref _mlflow, new MlflowContact(at, null, null));
        Volatile.Write(ref _registry, new RegistryView(production?.Version, production?.Identity, at));
    }

    /// <summary>Records a failed look at the registry; the time it became unreachable is kept from the first failure.</summary>
    public void MlflowFailed(DateTimeOffset at, string error)
    {
        var previous = Mlflow;
        Volatile.Write(ref _mlflow, previous with { UnreachableSince = previous.UnreachableSince ?? at, LastError = error });
    }

    /// <summary>Says why the registry's Production version is not served (null: it is, or it is loading).</summary>
    public void ReportProblem(LoadProblem? problem) => Volatile.Write(ref _problem, problem);
}
