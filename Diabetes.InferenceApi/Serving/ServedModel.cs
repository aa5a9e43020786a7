using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Microsoft.Extensions.ObjectPool;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// A Production version loaded in memory: the model with its featurization, the decision threshold and where it came
/// from, and a pool of scorers (one scorer serves one request at a time) that lives and goes with it.
/// </summary>
public sealed class ServedModel
{
    private readonly ObjectPool<ReadmissionScorer> _scorers;
    private int _explanationFailed;

    public ServedModel(ModelVersion version, ReadmissionModel model, ModelMetadata metadata, IReadOnlyDictionary<string, double> metrics, DateTimeOffset loadedAt)
    {
        Version = version;
        Metadata = metadata;
        Metrics = metrics;
        LoadedAt = loadedAt;
        // What explaining needs is built now, with the model, not by the first request that asks.
        ExplanationProblem = model.ExplanationProblem;
        _scorers = new DefaultObjectPool<ReadmissionScorer>(new ScorerPolicy(model), MaxKeptScorers);

        // Scorers are built now, off the request path, so that the first requests after a swap do not pay for them.
        var warm = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => _scorers.Get()).ToArray();
        foreach (var scorer in warm)
        {
            _scorers.Return(scorer);
        }
    }

    /// <summary>
    /// Scorers kept for reuse. Under load the thread pool grows past the cores, and each request that scores while all
    /// kept scorers are busy builds one; keeping up to this many means that happens only while the peak is first reached.
    /// </summary>
    private const int MaxKeptScorers = 64;

    public ModelVersion Version { get; }

    public ModelMetadata Metadata { get; }

    /// <summary>The metrics of the run that trained it (validation and test).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>What drift compares this version's requests with: its <c>reference_profile.json</c>.</summary>
    public ReferenceProfile? Reference { get; init; }

    /// <summary>Why there is no <see cref="Reference"/>: no profile in the model folder, or one that cannot be read.</summary>
    public string? ReferenceProblem { get; init; }

    /// <summary>
    /// What an answer says when explaining one encounter failed: the exception goes to the log, not to the answer (it
    /// is shown on the clinicians' page).
    /// </summary>
    public const string ExplanationFailed = "explaining this prediction failed in the service (logged); the probability stands";

    /// <summary>Why this version's predictions cannot be explained, found when it was loaded; null when they can.</summary>
    public ExplanationProblem? ExplanationProblem { get; private set; }

    /// <summary>The short reason of <see cref="ExplanationProblem"/>.</summary>
    public string? ExplanationUnavailable => ExplanationProblem?.Reason;

    /// <summary>The probability of readmission within 30 days. Safe to call from any number of threads.</summary>
    public double Predict(ModelInput input) => WithScorer(input, static (scorer, input) => scorer.Predict(input));

    /// <summary>
    /// The probability as <see cref="Predict"/> answers it, with the contribution of each request field to the
    /// learner's score; or why not: <see cref="ExplanationUnavailable"/>, or <see cref="ExplanationFailed"/> with the
    /// exception when explaining this encounter threw (the probability is then asked for again, unexplained). Safe to
    /// call from any number of threads.
    /// </summary>
    public ExplanationOutcome Explain(ModelInput input)
    {
        if (ExplanationProblem is { } problem)
        {
            return new(null, problem.Reason, null);
        }

        try
        {
            return new(WithScorer(input, static (scorer, input) => scorer.Explain(input)), null, null);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return new(null, ExplanationFailed, exception);
        }
    }

    /// <summary>
    /// True the first time an explanation of this version fails, false after: the first failure is logged with its
    /// exception, the next ones are counted without (a batch could otherwise log a hundred stack traces).
    /// </summary>
    public bool FirstExplanationFailure() => Interlocked.Exchange(ref _explanationFailed, 1) == 0;

    /// <summary>Marks the version unexplainable before it serves: its explanation failed on its own input example.</summary>
    internal void CannotExplain(ExplanationProblem problem) => ExplanationProblem = problem;

    /// <summary>Runs <paramref name="use"/> on a scorer of the pool (static lambdas: nothing allocated per request).</summary>
    private T WithScorer<T>(ModelInput input, Func<ReadmissionScorer, ModelInput, T> use)
    {
        var scorer = _scorers.Get();
        try
        {
            return use(scorer, input);
        }
        finally
        {
            _scorers.Return(scorer);
        }
    }

    public bool Decide(double probability) => probability >= Metadata.Threshold;

    private sealed class ScorerPolicy(ReadmissionModel model) : PooledObjectPolicy<ReadmissionScorer>
    {
        public override ReadmissionScorer Create() => model.CreateScorer();

        public override bool Return(ReadmissionScorer scorer) => true;
    }
}

/// <summary>
/// An explained prediction, or why there is none (<see cref="Unavailable"/>, the short reason an answer carries);
/// <see cref="Failure"/> is the exception when explaining this encounter threw, for the log.
/// </summary>
public readonly record struct ExplanationOutcome(ExplainedPrediction? Explained, string? Unavailable, Exception? Failure);
