using System.Globalization;
using System.Text.Json.Nodes;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Diabetes.InferenceApi.Apis;

/// <summary>
/// The request bodies in the OpenAPI document: the body is read by hand (to name every bad field), so its schema is
/// written here from the schema and domain the validator uses, with a typical encounter of the dataset as example.
/// </summary>
public static class EncounterOpenApi
{
    public static Task DescribeSingleRequest(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.RequestBody = Body(Encounter(), TypicalEncounter.ToRequest(), "One encounter: the dataset's columns without the ids and the outcome.");
        DescribeQuery(operation);
        return Task.CompletedTask;
    }

    public static Task DescribeBatchRequest(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var batch = new OpenApiSchema { Type = JsonSchemaType.Array, Items = Encounter(), MinItems = 1, MaxItems = PredictionLimits.MaxBatchSize };
        operation.RequestBody = Body(batch, new JsonArray(TypicalEncounter.ToRequest(), TypicalEncounter.ToRequest()), FormattableString.Invariant($"1 to {PredictionLimits.MaxBatchSize:N0} encounters; 1 to {PredictionLimits.MaxExplainedBatchSize:N0} with explain=true."));
        DescribeQuery(operation);
        return Task.CompletedTask;
    }

    /// <summary><c>explain</c> and <c>top</c>, which are read as text (to name a bad one in a 400), with their real types.</summary>
    private static void DescribeQuery(OpenApiOperation operation)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            (parameter.Description, parameter.Schema) = parameter.Name switch
            {
                "explain" => ("true: add `explanation`, the learner's raw score, the model's baseline on validation and the largest contributions to the score by request field",
                    new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = false }),
                "top" => ("How many contributions the explanation holds, largest first by size",
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Integer, Minimum = "1", Maximum = PredictionLimits.MaxTop.ToString(CultureInfo.InvariantCulture), Default = PredictionLimits.DefaultTop,
                    }),
                _ => (parameter.Description, parameter.Schema),
            };
        }
    }

    private static OpenApiRequestBody Body(OpenApiSchema schema, JsonNode example, string description) => new()
    {
        Required = true,
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema, Example = example } },
    };

    private static OpenApiSchema Encounter() => new()
    {
        Type = JsonSchemaType.Object,
        AdditionalPropertiesAllowed = false,
        Properties = EncounterSchema.FeatureColumns.ToDictionary(c => c.SourceName, c => (IOpenApiSchema)Field(c)),
        Required = EncounterSchema.FeatureColumns.Select(c => c.SourceName).Where(n => !EncounterDomain.MayBeUnknown.Contains(n)).ToHashSet(),
    };

    private static OpenApiSchema Field(EncounterColumn column)
    {
        var name = column.SourceName;
        if (EncounterDomain.Codes(name) is { } codes)
        {
            return new OpenApiSchema
            {
                Type = JsonSchemaType.Integer,
                Enum = codes.Keys.Order().Select(code => (JsonNode)code).ToList(),
                Description = string.Join("; ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key}: {c.Value}")),
            };
        }

        if (EncounterDomain.CountRanges.TryGetValue(name, out var range))
        {
            return new OpenApiSchema
            {
                Type = JsonSchemaType.Integer,
                Minimum = range.Min.ToString(CultureInfo.InvariantCulture),
                Maximum = range.Max.ToString(CultureInfo.InvariantCulture),
            };
        }

        var type = EncounterDomain.MayBeUnknown.Contains(name) ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
        return EncounterDomain.Categories(name) is { } allowed
            ? new OpenApiSchema { Type = type, Enum = allowed.Select(value => (JsonNode)value).ToList() }
            : new OpenApiSchema { Type = type, Description = "An ICD-9 code as the dataset writes it: 428, 250.83, V57, E909" };
    }
}
