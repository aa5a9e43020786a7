using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Diabetes.InferenceApi.Apis;

/// <summary>The version that made a prediction.</summary>
public sealed record ModelReference(string Name, string Version, string? RunId, string Algorithm);

/// <summary>
/// One prediction: its id (the key of its row in the prediction log, under which its outcome is reported), the
/// probability, the decision at the model's threshold, and the model that made it.
/// </summary>
public sealed record PredictionResponse(Guid PredictionId, bool ReadmittedWithin30Days, double Probability, double Threshold, ModelReference Model);

/// <summary>Whether MLflow answered the last look at the registry, and since when it has not.</summary>
public sealed record MlflowStatus(bool Reachable, DateTimeOffset? LastAnsweredAt, DateTimeOffset? UnreachableSince, string? LastError);

/// <summary>
/// The model being served (<c>GET /api/model</c>): <c>alias</c> and <c>stage</c> as when it was loaded;
/// <c>productionInRegistry</c> is the version holding Production at the last look, and <c>loadProblem</c> says why it
/// is not the one served when it failed to load.
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
    LoadProblemResponse? LoadProblem);

/// <summary>Why the registry's Production version is not the one served: refused for good, or not fetched yet.</summary>
public sealed record LoadProblemResponse(string Version, string Reason, bool Rejected, DateTimeOffset At);

/// <summary>Source-generated JSON for what the API writes: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PredictionResponse))]
[JsonSerializable(typeof(PredictionResponse[]))]
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
