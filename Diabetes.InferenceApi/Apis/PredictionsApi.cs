using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.InferenceApi.Monitoring;
using Diabetes.InferenceApi.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Diabetes.InferenceApi.Apis;

public static partial class PredictionsApi
{
    /// <summary>A batch's errors are listed up to this many; the rest of the batch is not checked.</summary>
    public const int MaxBatchErrors = 100;

    /// <summary>Body limits: a single encounter is about 1 KB, a full batch about 1.2 MB.</summary>
    public const long MaxSingleBodyBytes = 1 << 20;
    public const long MaxBatchBodyBytes = 8 << 20;

    /// <summary>The extension of a 503 that says which state it answers; the monitoring DAG skips its run on the lasting ones.</summary>
    public const string StateExtension = "state";
    public const string NoProductionState = "noProduction";

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    public static RouteGroupBuilder MapPredictionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Predictions");

        api.MapPost("/predictions", PredictAsync)
            .WithName("Predict")
            .WithSummary("The probability that one encounter is readmitted within 30 days, by the Production model")
            .WithMetadata(new RequestSizeLimitAttribute(MaxSingleBodyBytes))
            .AddOpenApiOperationTransformer(EncounterOpenApi.DescribeSingleRequest);
        api.MapPost("/predictions/batch", PredictBatchAsync)
            .WithName("PredictBatch")
            .WithSummary(FormattableString.Invariant($"Predictions for 1 to {PredictionLimits.MaxBatchSize:N0} encounters ({PredictionLimits.MaxExplainedBatchSize} with explain=true), in their order, all by one model version"))
            .WithMetadata(new RequestSizeLimitAttribute(MaxBatchBodyBytes))
            .AddOpenApiOperationTransformer(EncounterOpenApi.DescribeBatchRequest);
        api.MapGet("/model", GetModel)
            .WithName("GetModel")
            .WithSummary("The model being served: version, stage and alias, metrics, when it was loaded, and MLflow's state");

        return api;
    }

    public static Task<Results<Ok<PredictionResponse>, ValidationProblem, ProblemHttpResult>> PredictAsync(
        HttpRequest request, [AsParameters] PredictionQuery query, EncounterReader reader, ServingState state, ServingTelemetry telemetry, PredictionLog log,
        ILogger<ServedModel> logger, CancellationToken cancellationToken) =>
        AnswerJsonAsync<PredictionResponse>(request, query, MaxSingleBodyBytes, "predict", telemetry, cancellationToken, (root, explainTop, activity) =>
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var input = reader.Read(root, "", errors);
            if (input is null)
            {
                return Invalid(errors);
            }

            if (state.Model is not { } model)
            {
                return NoModel(state, request.HttpContext.Response);
            }

            activity?.SetTag("model.version", model.Version.Version);
            return TypedResults.Ok(Predict(model, input, root, explainTop, telemetry, log, logger));
        });

    public static Task<Results<Ok<PredictionResponse[]>, ValidationProblem, ProblemHttpResult>> PredictBatchAsync(
        HttpRequest request, [AsParameters] PredictionQuery query, EncounterReader reader, ServingState state, ServingTelemetry telemetry, PredictionLog log,
        ILogger<ServedModel> logger, CancellationToken cancellationToken) =>
        AnswerJsonAsync<PredictionResponse[]>(request, query, MaxBatchBodyBytes, "predict batch", telemetry, cancellationToken, (root, explainTop, activity) =>
        {
            var count = root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : -1;
            if (count is < 1 or > PredictionLimits.MaxBatchSize || (explainTop is not null && count > PredictionLimits.MaxExplainedBatchSize))
            {
                return Invalid(new Dictionary<string, string[]>
                {
                    [EncounterRequestValidator.BodyKey] = [count < 0
                        ? "must be a JSON array of encounters"
                        : FormattableString.Invariant($"holds {count:N0} encounters; a batch holds 1 to {PredictionLimits.MaxBatchSize:N0}, or 1 to {PredictionLimits.MaxExplainedBatchSize:N0} with explain=true")],
                });
            }

            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var inputs = new ModelInput?[count];
            var index = 0;
            foreach (var element in root.EnumerateArray())
            {
                inputs[index] = reader.Read(element, $"[{index}].", errors);
                if (errors.Count >= MaxBatchErrors && index < count - 1)
                {
                    // Enough to act on; a batch of a thousand bad encounters would otherwise answer megabytes of errors.
                    errors[EncounterRequestValidator.BodyKey] = [$"encounters {index + 1:N0} to {count - 1:N0} were not checked: the first {MaxBatchErrors} errors are listed"];
                    break;
                }

                index++;
            }

            if (errors.Count > 0)
            {
                return Invalid(errors);
            }

            // One model for the whole batch, even if a swap happens meanwhile.
            if (state.Model is not { } model)
            {
                return NoModel(state, request.HttpContext.Response);
            }

            activity?.SetTag("model.version", model.Version.Version);
            activity?.SetTag("batch.size", count);
            return TypedResults.Ok(root.EnumerateArray().Select((element, i) => Predict(model, inputs[i]!, element, explainTop, telemetry, log, logger)).ToArray());
        });

    /// <summary>
    /// Reads the query and the body as JSON and answers them with <paramref name="answer"/>, given the number of
    /// contributions to explain (null: no explanation), or the refusal that says why they cannot be read, in a span named
    /// <paramref name="operation"/> (with " explain" when asked), timing the whole.
    /// </summary>
    private static async Task<Results<Ok<T>, ValidationProblem, ProblemHttpResult>> AnswerJsonAsync<T>(
        HttpRequest request, PredictionQuery query, long limit, string operation, ServingTelemetry telemetry, CancellationToken cancellationToken,
        Func<JsonElement, int?, Activity?, Results<Ok<T>, ValidationProblem, ProblemHttpResult>> answer)
    {
        var started = Stopwatch.GetTimestamp();
        var (explainTop, queryErrors) = query.Read();
        operation = explainTop is null ? operation : $"{operation} explain";
        using var activity = ServingTelemetry.ActivitySource.StartActivity(operation);
        var (document, refusal) = queryErrors is not null ? (null, InvalidQuery(queryErrors)) : await ReadJsonAsync(request, limit, cancellationToken);
        using (document)
        {
            var result = refusal switch
            {
                ValidationProblem invalid => invalid,
                ProblemHttpResult problem => problem,
                // An explanation answers the request's own values, written after the document is disposed: one copy
                // of the request, which they point into, and none per value.
                _ => answer(explainTop is null ? document!.RootElement : document!.RootElement.Clone(), explainTop, activity),
            };
            telemetry.RecordDuration(Stopwatch.GetElapsedTime(started), operation);
            return result;
        }
    }

    public static Results<Ok<ServedModelResponse>, ProblemHttpResult> GetModel(ServingState state, HttpResponse response)
    {
        if (state.Model is not { } model)
        {
            return NoModel(state, response);
        }

        var version = model.Version;
        var metadata = model.Metadata;
        return TypedResults.Ok(new ServedModelResponse(
            version.Name, version.Version,
            version.Aliases?.Contains(MlflowClient.ProductionAlias) == true ? MlflowClient.ProductionAlias : null,
            version.CurrentStage, version.RunId, metadata.Algorithm, metadata.Threshold, model.Metrics, model.LoadedAt,
            metadata.Created, metadata.Lineage.TrainRows, metadata.Lineage.Batches, MlflowStatusOf(state),
            state.Registry?.ProductionVersion, ProblemOf(state), model.ExplanationUnavailable));
    }

    /// <summary>
    /// Scores the input (explained with its <paramref name="explainTop"/> largest contributions when asked) and logs the
    /// answer (queued, never waited for) under the id the answer carries. An explanation that fails is logged and
    /// counted, and the prediction is answered without it.
    /// </summary>
    private static PredictionResponse Predict(
        ServedModel model, ModelInput input, JsonElement request, int? explainTop, ServingTelemetry telemetry, PredictionLog log, ILogger logger)
    {
        var outcome = explainTop is null ? default : model.Explain(input);
        if (outcome.Failure is { } failure)
        {
            telemetry.RecordExplanationFailure(model);
            if (model.FirstExplanationFailure())
            {
                LogExplanationFailed(logger, failure, model.Version.Version);
            }
            else
            {
                LogExplanationFailedAgain(logger, model.Version.Version, failure.Message);
            }
        }

        var explained = outcome.Explained;
        var probability = explained?.Probability ?? model.Predict(input);
        var readmitted = model.Decide(probability);
        telemetry.RecordPrediction(model, readmitted);
        var id = log.Add(model, input, probability, readmitted);
        var reference = new ModelReference(model.Version.Name, model.Version.Version, model.Version.RunId, model.Metadata.Algorithm);
        if (explainTop is not { } top)
        {
            return new PredictionResponse(id, readmitted, probability, model.Metadata.Threshold, reference);
        }

        var explanation = explained is null ? null : new PredictionExplanation(
            PredictionExplanation.ScoreUnits,
            explained.Score,
            model.Reference?.Baseline is { } baseline ? new ExplanationBaseline(baseline.Score, baseline.Probability, baseline.Rows) : null,
            explained.Contributions.Take(top).Select(c => new FieldContributionResponse(c.Field, ValueOf(request, c.Field), c.Contribution)).ToArray());
        return new ExplainedPredictionResponse(id, readmitted, probability, model.Metadata.Threshold, reference, explanation, outcome.Unavailable);
    }

    /// <summary>A field's value as the request gave it (<paramref name="request"/> outlives the request's document); null when left out.</summary>
    private static JsonElement? ValueOf(JsonElement request, string field) =>
        EncounterRequestValidator.Field(request, field) is { ValueKind: not JsonValueKind.Undefined } value ? value : null;

    [LoggerMessage(Level = LogLevel.Error, Message = "Explaining a prediction of version {Version} failed; it was answered without explanation")]
    private static partial void LogExplanationFailed(ILogger logger, Exception exception, string version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Explaining a prediction of version {Version} failed again ({Error}); counted in diabetes.explanation.failures")]
    private static partial void LogExplanationFailedAgain(ILogger logger, string version, string error);

    /// <summary>Reads the body as JSON, or the refusal that says why it cannot be read (a 400, 413 or 415).</summary>
    internal static async Task<(JsonDocument? Document, IResult? Refusal)> ReadJsonAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON", detail: $"Send Content-Type: application/json, not '{request.ContentType}'."));
        }

        // Kestrel also enforces the endpoint's limit on bodies of unknown length while they are read.
        if (request.ContentLength > limit)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "The request is too large", detail: $"The body has {request.ContentLength:N0} bytes; this endpoint takes at most {limit:N0}."));
        }

        try
        {
            return (await JsonDocument.ParseAsync(request.Body, DocumentOptions, cancellationToken), null);
        }
        catch (JsonException exception)
        {
            return (null, TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [EncounterRequestValidator.BodyKey] = [$"is not valid JSON: {exception.Message}"] },
                title: "The request is not valid JSON"));
        }
        catch (BadHttpRequestException exception)
        {
            // Too large (413), or cut off before its announced length: answered, not logged as a fault of the service.
            return (null, TypedResults.Problem(statusCode: exception.StatusCode,
                title: exception.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request is too large" : "The request body could not be read",
                detail: exception.Message));
        }
    }

    private static ValidationProblem InvalidQuery(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The query has invalid parameters",
            detail: $"explain is true or false; top is a whole number from 1 to {PredictionLimits.MaxTop}. Nothing was scored.");

    private static ValidationProblem Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request has invalid fields",
            detail: "Each field named below breaks the dataset's rules; nothing was scored.");

    /// <summary>
    /// 503: no model is served. Its <c>state</c> says why, for callers that act on it: <see cref="NoProductionState"/>
    /// (no version holds Production) lasts until one is promoted; every other state (MLflow unreachable or not asked yet,
    /// the Production version being loaded, refused or not fetched) is transient and answered with <c>Retry-After</c>.
    /// </summary>
    internal static ProblemHttpResult NoModel(ServingState state, HttpResponse response)
    {
        var (serving, detail) = (state.Mlflow.UnreachableSince, state.Registry, state.Problem) switch
        {
            ({ } since, _, _) => ("mlflowUnreachable", $"No model is loaded, and MLflow has been unreachable since {since:O}."),
            (_, null, _) => ("mlflowNotAsked", "MLflow has not been asked yet; try again in a few seconds."),
            (_, { ProductionVersion: null }, _) => (NoProductionState,
                $"No version of {ModelArtifacts.RegisteredModelName} holds Production; train and promote one (trainer: POST /api/trainings, POST /api/promotions)."),
            (_, { ProductionVersion: var version }, { } problem) => (problem.Rejected ? "productionRefused" : "productionNotFetched",
                $"Version {version} holds Production and cannot be served ({(problem.Rejected ? "refused" : "not fetched")}: {problem.Reason})."),
            (_, { ProductionVersion: var version }, null) => ("productionLoading", $"Version {version} holds Production and is being loaded; try again in a few seconds."),
        };
        if (serving != NoProductionState)
        {
            response.Headers.RetryAfter = ((int)ProblemAnswer.DefaultRetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: state.Registry is { ProductionVersion: null } ? "No model in Production yet" : "The Production model is not loaded",
            detail: detail,
            extensions: new Dictionary<string, object?> { [StateExtension] = serving, ["mlflow"] = MlflowStatusOf(state), ["loadProblem"] = ProblemOf(state) });
    }

    private static LoadProblemResponse? ProblemOf(ServingState state) =>
        state.Problem is { } problem ? new LoadProblemResponse(problem.Version, problem.Reason, problem.Rejected, problem.At) : null;

    private static MlflowStatus MlflowStatusOf(ServingState state)
    {
        var mlflow = state.Mlflow;
        return new MlflowStatus(mlflow.Reachable, mlflow.LastAnsweredAt, mlflow.UnreachableSince, mlflow.LastError);
    }
}
