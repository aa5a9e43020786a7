using System.Text.Json;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using FluentValidation;
using FluentValidation.Results;

namespace Diabetes.InferenceApi.Apis;

/// <summary>
/// Checks one prediction request, a JSON object whose properties are the dataset's columns, against the dataset's
/// domain before anything reaches the model: every bad field is named once (the first rule it breaks), a category
/// with its allowed values, and a property that is not an input is refused.
/// </summary>
public sealed class EncounterRequestValidator : AbstractValidator<JsonElement>
{
    /// <summary>The key of an error about the request as a whole rather than one field.</summary>
    public const string BodyKey = "$";

    /// <summary>Beyond this many properties a request is refused whole (twice the fields, to name a few strays).</summary>
    private static readonly int MaxProperties = 2 * EncounterSchema.FeatureColumns.Count;

    public EncounterRequestValidator()
    {
        foreach (var column in EncounterSchema.FeatureColumns)
        {
            AddFieldRule(column);
        }
    }

    /// <summary>The value of a field as sent; <see cref="JsonValueKind.Undefined"/> when it is absent.</summary>
    public static JsonElement Field(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) ? value : default;

    /// <summary>Whether a value stands for "unknown": absent, <c>null</c> or the dataset's <c>?</c>.</summary>
    public static bool IsUnknown(JsonElement value) =>
        value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
        || (value.ValueKind == JsonValueKind.String && EncounterCleaner.Missing(value.GetString()) is null);

    /// <summary>
    /// A request that is not a JSON object is refused as a whole; in one that is, every property that is not an input
    /// is named before the fields are checked.
    /// </summary>
    protected override bool PreValidate(ValidationContext<JsonElement> context, ValidationResult result)
    {
        var request = context.InstanceToValidate;
        if (request.ValueKind != JsonValueKind.Object)
        {
            result.Errors.Add(new ValidationFailure(BodyKey, $"must be a JSON object of the encounter's fields, not {Describe(request)}"));
            return false;
        }

        var properties = request.EnumerateObject().Count();
        if (properties > MaxProperties)
        {
            // Not named one by one: a request of thousands of unknown fields would get an answer of thousands of errors.
            result.Errors.Add(new ValidationFailure(BodyKey, $"has {properties:N0} properties; a request has at most {EncounterSchema.FeatureColumns.Count} fields"));
            return false;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in request.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                result.Errors.Add(new ValidationFailure(property.Name, "is sent more than once"));
            }
            else if (EncounterSchema.Find(property.Name) is not { } column)
            {
                result.Errors.Add(new ValidationFailure(property.Name,
                    "is not a field of a prediction request (the dataset's column names, written as in the dataset)"));
            }
            else if (column.Kind is ColumnKind.Identifier or ColumnKind.Label)
            {
                result.Errors.Add(new ValidationFailure(property.Name, "is not an input: the ids and the outcome are not sent"));
            }
        }

        return true;
    }

    private void AddFieldRule(EncounterColumn column)
    {
        var name = column.SourceName;
        var rule = RuleFor(request => Field(request, name)).Cascade(CascadeMode.Stop);
        var checks = column.Kind == ColumnKind.Integer ? WholeNumberRules(rule, name) : TextRules(rule, name, column.Kind);
        checks.OverridePropertyName(name);
    }

    private static IRuleBuilderOptions<JsonElement, JsonElement> TextRules(IRuleBuilderInitial<JsonElement, JsonElement> rule, string name, ColumnKind kind)
    {
        var checks = rule.Must(value => value.ValueKind is JsonValueKind.String or JsonValueKind.Null or JsonValueKind.Undefined)
            .WithMessage((_, value) => $"must be a JSON string, not {Describe(value)}");
        if (!EncounterDomain.MayBeUnknown.Contains(name))
        {
            checks = checks.Must(value => !IsUnknown(value)).WithMessage($"is required: {Expected(name)}");
        }

        if (kind == ColumnKind.Diagnosis)
        {
            return checks.Must(value => IsUnknown(value) || Icd9.IsValidCode(value.GetString()!.Trim()))
                .WithMessage((_, value) => $"'{value.GetString()}' is not {Expected(name)}");
        }

        var allowed = EncounterDomain.Categories(name)!;
        return checks.Must(value => IsUnknown(value) || allowed.Contains(value.GetString()!.Trim()))
            .WithMessage((_, value) => $"'{value.GetString()}' is not {Expected(name)}");
    }

    private static IRuleBuilderOptions<JsonElement, JsonElement> WholeNumberRules(IRuleBuilderInitial<JsonElement, JsonElement> rule, string name)
    {
        var checks = rule.Must(value => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
            .WithMessage($"is required: {Expected(name)}")
            .Must(value => value.ValueKind == JsonValueKind.Number)
            .WithMessage((_, value) => $"must be a JSON number, not {Describe(value)}")
            .Must(value => EncounterJson.WholeNumber(value) is not null)
            .WithMessage((_, value) => $"{value.GetRawText()} is not {Expected(name)}");
        if (EncounterDomain.Codes(name) is { } codes)
        {
            checks = checks.Must(value => codes.ContainsKey(EncounterJson.WholeNumber(value)!.Value))
                .WithMessage((_, value) => $"{EncounterJson.WholeNumber(value)!.Value} is not {Expected(name)}");
        }
        else
        {
            var (min, max) = EncounterDomain.CountRanges[name];
            checks = checks.Must(value => EncounterJson.WholeNumber(value)!.Value >= min && EncounterJson.WholeNumber(value)!.Value <= max)
                .WithMessage((_, value) => $"{EncounterJson.WholeNumber(value)!.Value} is not {Expected(name)}");
        }

        if (name == "discharge_disposition_id")
        {
            checks = checks.Must(value => !EncounterCleaner.IsExcluded(EncounterJson.WholeNumber(value)!.Value))
                .WithMessage((_, value) =>
                    $"{EncounterJson.WholeNumber(value)!.Value} means the patient died or went to hospice; the model does not score such encounters (a readmission is impossible or not the outcome that matters)");
        }

        return checks;
    }

    /// <summary>What a field must hold, as said in its error.</summary>
    private static string Expected(string name)
    {
        if (EncounterDomain.Codes(name) is { } codes)
        {
            return $"a code of IDs_mapping.csv: {string.Join(", ", codes.Keys.Order())}";
        }

        if (EncounterDomain.CountRanges.TryGetValue(name, out var range))
        {
            return $"a whole number from {range.Min} to {range.Max}";
        }

        if (EncounterDomain.Categories(name) is { } allowed)
        {
            return $"one of {string.Join(", ", allowed)}";
        }

        return "an ICD-9 code such as 428, 250.83, V57 or E909";
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
