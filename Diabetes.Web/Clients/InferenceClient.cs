using System.Text.Json;
using System.Text.Json.Nodes;
using Refit;

namespace Diabetes.Web.Clients;

/// <summary>The inference API, as the web page uses it (<c>https+http://inference</c>).</summary>
public interface IInferenceApi
{
    /// <summary>A prediction with every field's contribution (at most 50): the page shows the five largest of each sign.</summary>
    [Post("/api/predictions?explain=true&top=50")]
    Task<IApiResponse<Prediction>> PredictAsync([Body] JsonObject encounter, CancellationToken cancellationToken);

    [Get("/api/model")]
    Task<IApiResponse<ServedModel>> GetModelAsync(CancellationToken cancellationToken);

    /// <summary>Predictions per hour and version in the window [<paramref name="from"/>, <paramref name="to"/>) (ISO 8601).</summary>
    [Get("/api/monitoring/traffic")]
    Task<IApiResponse<Traffic>> GetTrafficAsync(string from, string to, CancellationToken cancellationToken);

    [Get("/api/monitoring/drift")]
    Task<IApiResponse<Drift>> GetDriftAsync(string version, string from, string to, CancellationToken cancellationToken);

    [Get("/api/monitoring/performance")]
    Task<IApiResponse<Performance>> GetPerformanceAsync(string version, CancellationToken cancellationToken);
}

public sealed record ModelReference(string Name, string Version, string? RunId, string Algorithm);

public sealed record Prediction(
    bool ReadmittedWithin30Days, double Probability, double Threshold, ModelReference Model, Explanation? Explanation, string? ExplanationUnavailable);

/// <summary>Why a probability: the learner's raw score, the model's score for its validation split, and each field's part in the score.</summary>
public sealed record Explanation(double Score, ExplanationBaseline? Baseline, IReadOnlyList<FieldContribution> Contributions);

public sealed record ExplanationBaseline(double Score, double Probability, long Encounters);

/// <summary>A request field, its value as sent and what it added to the score (negative: it lowered the risk).</summary>
public sealed record FieldContribution(string Field, JsonElement? Value, double Contribution);

public sealed record ServedModel(string Name, string Version, string? RunId, string Algorithm, DateTimeOffset TrainedAt, int TrainRows, IReadOnlyList<int> Batches);

/// <summary>A refusal of the API (RFC 9457 problem details), with the message of each bad field.</summary>
public sealed record ApiProblem(string? Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors)
{
    public static ApiProblem Read(ApiException error)
    {
        if (error.Content is { Length: > 0 } content)
        {
            try
            {
                if (JsonNode.Parse(content) is JsonObject problem)
                {
                    var errors = problem["errors"] as JsonObject is { } fields ? fields.Deserialize<Dictionary<string, string[]>>() ?? [] : [];
                    return new ApiProblem((string?)problem["title"], (string?)problem["detail"], errors);
                }
            }
            catch (Exception exception) when (exception is JsonException or InvalidOperationException)
            {
                // Not problem details (a proxy's page): the status alone is said.
            }
        }

        return new ApiProblem($"{(int)error.StatusCode} {error.ReasonPhrase}", null, new Dictionary<string, string[]>());
    }
}
