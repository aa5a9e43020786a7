using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Diabetes.Core.Modeling;
using Diabetes.InferenceApi.Monitoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Diabetes.InferenceApi.Apis;

/// <summary>
/// Outcomes reported later against logged predictions: one at a time under the prediction's id, or up to
/// <see cref="MaxBatchSize"/> at once. An outcome is recorded once and never changed.
/// </summary>
public static class OutcomesApi
{
    public const int MaxBatchSize = 1_000;

    /// <summary>Body limits: an outcome is some 40 bytes, an item of a list about 90.</summary>
    public const long MaxSingleBodyBytes = 4 << 10;
    public const long MaxBatchBodyBytes = 1 << 20;

    public const string PredictionIdField = "predictionId";
    public const string ReadmittedField = "readmittedWithin30Days";

    /// <summary>The statuses of a list's items.</summary>
    public const string Recorded = "recorded";
    public const string AlreadyRecorded = "already recorded";
    public const string Conflict = "conflict";
    public const string Unknown = "unknown";
    public const string Invalid = "invalid";

    private static readonly string[] OutcomeFields = [ReadmittedField];
    private static readonly string[] ItemFields = [PredictionIdField, ReadmittedField];

    public static RouteGroupBuilder MapOutcomesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Outcomes");

        api.MapPost("/predictions/{id}/outcome", RecordAsync)
            .WithName("RecordOutcome")
            .WithSummary("Records whether the patient of a logged prediction was readmitted within 30 days: 204, also when the same outcome is on record")
            .WithMetadata(new RequestSizeLimitAttribute(MaxSingleBodyBytes))
            .Accepts<OutcomeRequest>("application/json");
        api.MapPost("/outcomes", RecordListAsync)
            .WithName("RecordOutcomes")
            .WithSummary($"Records the outcomes of 1 to {MaxBatchSize:N0} logged predictions and answers what became of each")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBatchBodyBytes))
            .Accepts<OutcomeItemRequest[]>("application/json");

        return api;
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RecordAsync(
        string id, HttpRequest request, [FromServices] OutcomeStore? store, IOptions<MonitoringOptions> options, CancellationToken cancellationToken)
    {
        var (body, refusal) = await ReadBodyAsync(request, MaxSingleBodyBytes, "The outcome is not valid", ReadOutcome, store, cancellationToken);
        if (refusal is not null)
        {
            return refusal is ValidationProblem invalid ? invalid : (ProblemHttpResult)refusal;
        }

        if (!Guid.TryParse(id, out var predictionId))
        {
            return UnknownPrediction($"'{id}' is not a prediction id: the predictionId of an answer of this service, a UUID.");
        }

        var readmitted = body!.ReadmittedWithin30Days;
        var result = (await store!.RecordAsync([new ReportedOutcome(predictionId, readmitted)], cancellationToken))[0];
        return result.Status switch
        {
            OutcomeStatus.Recorded or OutcomeStatus.AlreadyRecorded => TypedResults.NoContent(),
            OutcomeStatus.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "Another outcome is on record",
                detail: $"{ConflictDetail(result.OnRecord!.Value, readmitted)} for prediction {predictionId}; a recorded outcome is not changed."),
            _ => UnknownPrediction(
                $"No prediction {predictionId} is in the log: an outcome is recorded against the predictionId of an answer of this service, within {options.Value.RetentionDays} days."),
        };
    }

    public static async Task<Results<Ok<OutcomesResponse>, ValidationProblem, ProblemHttpResult>> RecordListAsync(
        HttpRequest request, [FromServices] OutcomeStore? store, CancellationToken cancellationToken)
    {
        var (list, refusal) = await ReadBodyAsync(request, MaxBatchBodyBytes, "The list of outcomes is not valid", ReadList, store, cancellationToken);
        if (refusal is not null)
        {
            return refusal is ValidationProblem invalid ? invalid : (ProblemHttpResult)refusal;
        }

        // The invalid items are answered already; the others are recorded, and answered in their places.
        var items = list!.Select(item => item.Invalid).ToArray();
        var reported = list!.Index().Where(item => item.Item.Outcome is not null).Select(item => (Outcome: item.Item.Outcome!.Value, item.Index)).ToArray();
        var results = await store!.RecordAsync([.. reported.Select(r => r.Outcome)], cancellationToken);
        foreach (var ((outcome, index), result) in reported.Zip(results))
        {
            var id = outcome.PredictionId.ToString();
            items[index] = result.Status switch
            {
                OutcomeStatus.Recorded => new OutcomeItemResponse(id, Recorded, result.OnRecord, null),
                OutcomeStatus.AlreadyRecorded => new OutcomeItemResponse(id, AlreadyRecorded, result.OnRecord, null),
                OutcomeStatus.Conflict => new OutcomeItemResponse(id, Conflict, result.OnRecord,
                    ConflictDetail(result.OnRecord!.Value, outcome.ReadmittedWithin30Days) + "; it is not changed"),
                _ => new OutcomeItemResponse(id, Unknown, null, "no such prediction in the log"),
            };
        }

        var answered = items.Select(item => item!).ToArray();
        int Count(string status) => answered.Count(item => item.Status == status);
        return TypedResults.Ok(new OutcomesResponse(Count(Recorded), Count(AlreadyRecorded), Count(Conflict), Count(Unknown), Count(Invalid), answered));
    }

    /// <summary>
    /// The body read as JSON by <paramref name="read"/>, or the refusal that says why it cannot be recorded: a 400 when
    /// it is not JSON or when <paramref name="read"/> names what is wrong (under <paramref name="title"/>), a 413 or a
    /// 415, and then a 503 without a <paramref name="store"/>.
    /// </summary>
    private static async Task<(T? Value, IResult? Refusal)> ReadBodyAsync<T>(
        HttpRequest request, long limit, string title, Func<JsonElement, Dictionary<string, string[]>, T?> read, OutcomeStore? store,
        CancellationToken cancellationToken)
        where T : class
    {
        var (document, refusal) = await PredictionsApi.ReadJsonAsync(request, limit, cancellationToken);
        using (document)
        {
            if (refusal is not null)
            {
                return (null, refusal);
            }

            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var value = read(document!.RootElement, errors);
            return (errors.Count, store) switch
            {
                ( > 0, _) => (null, TypedResults.ValidationProblem(errors, title: title, detail: "Nothing was recorded.")),
                (_, null) => (null, NoLog()),
                _ => (value, null),
            };
        }
    }

    private static OutcomeRequest? ReadOutcome(JsonElement root, Dictionary<string, string[]> errors) =>
        ReadObject(root, OutcomeFields, errors) is { } fields && ReadReadmitted(fields, errors) is { } readmitted ? new OutcomeRequest(readmitted) : null;

    /// <summary>Each item of a list: the outcome it reports, or the answer that says why it is invalid.</summary>
    private static ListItem[]? ReadList(JsonElement root, Dictionary<string, string[]> errors)
    {
        var count = root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : -1;
        if (count is < 1 or > MaxBatchSize)
        {
            errors[EncounterRequestValidator.BodyKey] = [count < 0
                ? $$"""must be a JSON array of outcomes such as {"{{PredictionIdField}}": "…", "{{ReadmittedField}}": true}"""
                : $"holds {count:N0} outcomes; a list holds 1 to {MaxBatchSize:N0}"];
            return null;
        }

        return [.. root.EnumerateArray().Select(element =>
        {
            var itemErrors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var fields = ReadObject(element, ItemFields, itemErrors);
            var predictionId = fields is null ? null : ReadPredictionId(fields, itemErrors);
            var readmitted = fields is null ? null : ReadReadmitted(fields, itemErrors);
            if (predictionId is { } id && readmitted is { } outcome && itemErrors.Count == 0)
            {
                return new ListItem(new ReportedOutcome(id, outcome), null);
            }

            var sentId = fields?.GetValueOrDefault(PredictionIdField) is { ValueKind: JsonValueKind.String } text ? text.GetString() : null;
            return new ListItem(null, new OutcomeItemResponse(sentId, Invalid, null, string.Join("; ", itemErrors.Select(e =>
                e.Key == EncounterRequestValidator.BodyKey ? e.Value[0] : $"{e.Key} {e.Value[0]}"))));
        })];
    }

    /// <summary>
    /// 503 without <c>Retry-After</c>: without <c>ConnectionStrings:monitoring</c> there is no log to record outcomes in
    /// or measure from, until the service is configured again.
    /// </summary>
    internal static ProblemHttpResult NoLog() => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The prediction log is off",
        detail: "ConnectionStrings:monitoring is not set: predictions are answered but not logged, so outcomes cannot be recorded, and neither live quality nor drift measured.",
        extensions: new Dictionary<string, object?> { [PredictionsApi.StateExtension] = LogOffState });

    public const string LogOffState = "logOff";

    /// <summary>
    /// Reads the query parameter <c>version</c> of the monitoring endpoints: null when it is left out, else a version
    /// number from 1; false, with the error to answer under <c>version</c>, when it is not one.
    /// </summary>
    internal static bool TryReadVersion(string? version, out int? number, [NotNullWhen(false)] out string? error)
    {
        (number, error) = version is null ? (null, null)
            : int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed >= 1 ? (parsed, null)
            : ((int?)null, $"'{version}' is not a version number of {ModelArtifacts.RegisteredModelName}, such as 3");
        return error is null;
    }

    private static ProblemHttpResult UnknownPrediction(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such prediction", detail: detail);

    private static string ConflictDetail(bool onRecord, bool reported) =>
        $"{ReadmittedField} is {Json(onRecord)} on record, and {Json(reported)} was sent";

    private static string Json(bool value) => value ? "true" : "false";

    /// <summary>
    /// An object's properties by name, when it is an object that holds only <paramref name="fields"/>, each once;
    /// otherwise null, with what is wrong in <paramref name="errors"/> (the object itself under <c>$</c>).
    /// </summary>
    private static Dictionary<string, JsonElement>? ReadObject(JsonElement element, IReadOnlyList<string> fields, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors[EncounterRequestValidator.BodyKey] = [$"must be a JSON object, not {KindOf(element)}"];
            return null;
        }

        var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!fields.Contains(property.Name))
            {
                errors[property.Name] = [$"is not a field of an outcome; the fields are {string.Join(", ", fields)}"];
            }
            else if (!properties.TryAdd(property.Name, property.Value))
            {
                errors[property.Name] = ["is sent more than once"];
            }
        }

        return properties;
    }

    private static bool? ReadReadmitted(Dictionary<string, JsonElement> fields, Dictionary<string, string[]> errors)
    {
        switch (fields.GetValueOrDefault(ReadmittedField))
        {
            case { ValueKind: JsonValueKind.True }:
                return true;
            case { ValueKind: JsonValueKind.False }:
                return false;
            case { ValueKind: JsonValueKind.Undefined }:
                errors.TryAdd(ReadmittedField, ["is required: true or false"]);
                return null;
            case var other:
                errors.TryAdd(ReadmittedField, [$"must be true or false, not {KindOf(other)}"]);
                return null;
        }
    }

    private static Guid? ReadPredictionId(Dictionary<string, JsonElement> fields, Dictionary<string, string[]> errors)
    {
        var value = fields.GetValueOrDefault(PredictionIdField);
        if (value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out var id))
        {
            return id;
        }

        errors.TryAdd(PredictionIdField, [value.ValueKind switch
        {
            JsonValueKind.Undefined => "is required: the predictionId of an answer of this service",
            JsonValueKind.String => $"'{value.GetString()}' is not a prediction id (a UUID)",
            _ => $"must be a prediction id (a UUID in a JSON string), not {KindOf(value)}",
        }]);
        return null;
    }

    private static string KindOf(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Null => "null",
        _ => "a boolean",
    };

    private sealed record ListItem(ReportedOutcome? Outcome, OutcomeItemResponse? Invalid);
}
