using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Diabetes.Core.Modeling;
using Microsoft.AspNetCore.Mvc;

namespace Diabetes.InferenceApi.Apis;

/// <summary>The version that made a prediction.</summary>
public sealed record ModelReference(string Name, string Version, string? RunId, string Algorithm);

/// <summary>
/// One prediction: its id (the key of its row in the prediction log, under which its outcome is reported), the
/// probability, the decision at the model's threshold, and the model that made it.
/// </summary>
[JsonDerivedType(typeof(ExplainedPredictionResponse))]
public record PredictionResponse(Guid PredictionId, bool ReadmittedWithin30Days, double Probability, double Threshold, ModelReference Model);

/// <summary>
/// A prediction asked with <c>explain=true</c>: the same answer, with <c>explanation</c>; when the model's predictions
/// cannot be explained, <c>explanation</c> is null and <c>explanationUnavailable</c> says why.
/// </summary>
public sealed record ExplainedPredictionResponse(
    Guid PredictionId,
    bool ReadmittedWithin30Days,
    double Probability,
    double Threshold,
    ModelReference Model,
    PredictionExplanation? Explanation,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ExplanationUnavailable)
    : PredictionResponse(PredictionId, ReadmittedWithin30Days, Probability, Threshold, Model);

/// <summary>
/// Why this probability: the learner's raw score for the encounter (the probability is calibrated from it), the
/// model's score for its reference population (null for a version trained before baselines were recorded), and the
/// largest contributions to the score by request field, largest first by size (positive ones raised the risk,
/// negative ones lowered it). <c>units</c> says what the numbers are.
/// </summary>
public sealed record PredictionExplanation(string Units, double Score, ExplanationBaseline? Baseline, IReadOnlyList<FieldContributionResponse> Contributions)
{
    public const string ScoreUnits =
        "the learner's raw score, before its calibration into a probability; contributions are raw (not normalized), in the same units";
}

/// <summary>The model's mean raw score and mean probability over its reference population (the validation split, <c>encounters</c> rows).</summary>
public sealed record ExplanationBaseline(double Score, double Probability, long Encounters);

/// <summary>
/// What one request field contributed to the score: <c>field</c> is the request's own name, <c>value</c> its value as the
/// request gave it (null when left out), <c>contribution</c> the sum over every model input that field produced.
/// </summary>
public sealed record FieldContributionResponse(string Field, JsonElement? Value, double Contribution);

/// <summary>
/// The query of a prediction request: <c>explain=true</c> adds the explanation, with the <c>top</c> (1 to
/// <see cref="PredictionLimits.MaxTop"/>, default <see cref="PredictionLimits.DefaultTop"/>) largest contributions.
/// </summary>
public sealed record PredictionQuery([FromQuery(Name = "explain")] string? Explain, [FromQuery(Name = "top")] string? Top)
{
    /// <summary>
    /// How many contributions to answer (null: no explanation asked), and the errors of the query by parameter (null
    /// when there are none): each parameter parsed once, nothing allocated for a valid query.
    /// </summary>
    public (int? ExplainTop, Dictionary<string, string[]>? Errors) Read()
    {
        Dictionary<string, string[]>? errors = null;
        var explains = false;
        if (Explain is not null && !bool.TryParse(Explain, out explains))
        {
            (errors ??= new(StringComparer.Ordinal))["explain"] = [$"'{Explain}' is neither true nor false"];
        }

        var top = PredictionLimits.DefaultTop;
        if (Top is not null && !(int.TryParse(Top, NumberStyles.None, CultureInfo.InvariantCulture, out top) && top is >= 1 and <= PredictionLimits.MaxTop))
        {
            (errors ??= new(StringComparer.Ordinal))["top"] = [$"'{Top}' is not a whole number from 1 to {PredictionLimits.MaxTop}"];
        }

        return (explains ? top : null, errors);
    }
}

/// <summary>Whether MLflow answered the last look at the registry, and since when it has not.</summary>
public sealed record MlflowStatus(bool Reachable, DateTimeOffset? LastAnsweredAt, DateTimeOffset? UnreachableSince, string? LastError);

/// <summary>
/// The model being served (<c>GET /api/model</c>): <c>alias</c> and <c>stage</c> as when it was loaded;
/// <c>productionInRegistry</c> is the version holding Production at the last look, and <c>loadProblem</c> says why it
/// is not the one served when it failed to load; <c>explanationUnavailable</c> why its predictions cannot be explained
/// (left out when they can).
/// </summary>
public sealed record ServedModelResponse(
    string Name,
    string Version,
    string? Alias,
    string Stage,
    string? RunId,
    string Algorithm,
    double Threshold,
    IReadOnlyDictionary<string, double> Metrics,
    DateTimeOffset LoadedAt,
    DateTimeOffset TrainedAt,
    int TrainRows,
    IReadOnlyList<int> Batches,
    MlflowStatus Mlflow,
    string? ProductionInRegistry,
    LoadProblemResponse? LoadProblem,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ExplanationUnavailable);

/// <summary>Why the registry's Production version is not the one served: refused for good, or not fetched yet.</summary>
public sealed record LoadProblemResponse(string Version, string Reason, bool Rejected, DateTimeOffset At);

/// <summary>Source-generated JSON for what the API writes: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PredictionResponse))]
[JsonSerializable(typeof(PredictionResponse[]))]
[JsonSerializable(typeof(ExplainedPredictionResponse))]
[JsonSerializable(typeof(ServedModelResponse))]
[JsonSerializable(typeof(MlflowStatus))]
[JsonSerializable(typeof(LoadProblemResponse))]
[JsonSerializable(typeof(Monitoring.DriftResponse))]
[JsonSerializable(typeof(OutcomeRequest))]
[JsonSerializable(typeof(OutcomeItemRequest[]))]
[JsonSerializable(typeof(OutcomesResponse))]
[JsonSerializable(typeof(PerformanceResponse))]
[JsonSerializable(typeof(TrafficResponse))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
public sealed partial class InferenceJsonContext : JsonSerializerContext;
