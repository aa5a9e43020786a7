namespace Diabetes.InferenceApi.Serving;

/// <summary>What the last look at MLflow found: when it last answered, and since when it has not.</summary>
public sealed record MlflowContact(DateTimeOffset? LastAnsweredAt, DateTimeOffset? UnreachableSince, string? LastError)
{
    public bool Reachable => UnreachableSince is null && LastAnsweredAt is not null;
}

/// <summary>
/// The model being served and the state of MLflow, shared by the watcher (the only writer) and the requests. Each is
/// one reference, replaced whole: a request reads the model once and uses that one to the end, so a swap never fails
/// or holds up a request.
/// </summary>
public sealed class ServingState
{
    private ServedModel? _model;
    private MlflowContact _mlflow = new(null, null, null);

    public ServedModel? Model => Volatile.Read(ref _model);

    public MlflowContact Mlflow => Volatile.Read(ref _mlflow);

    /// <summary>Puts <paramref name="next"/> in service and answers the model it replaces.</summary>
    public ServedModel? Swap(ServedModel next) => Interlocked.Exchange(ref _model, next);

    public void MlflowAnswered(DateTimeOffset at) => Volatile.Write(ref _mlflow, new MlflowContact(at, null, null));

    /// <summary>Records a failed call; the time it became unreachable is kept from the first failure.</summary>
    public void MlflowFailed(DateTimeOffset at, string error)
    {
        var previous = Mlflow;
        Volatile.Write(ref _mlflow, previous with { UnreachableSince = previous.UnreachableSince ?? at, LastError = error });
    }
}
