using System.Globalization;
using System.Text.Json;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using FluentValidation;

namespace Diabetes.InferenceApi.Apis;

/// <summary>
/// Turns a prediction request into what the model reads: validated against the dataset's domain, then cleaned by the
/// same rules that built CLEAN DATA, then <see cref="ModelInput.FromClean"/>, as in training.
/// </summary>
public sealed class EncounterReader(IValidator<JsonElement> validator)
{
    /// <summary>
    /// Reads one encounter; on failure adds its errors (keys prefixed with <paramref name="prefix"/>, "[3]." in a batch)
    /// and answers <c>null</c>.
    /// </summary>
    public ModelInput? Read(JsonElement request, string prefix, IDictionary<string, string[]> errors)
    {
        try
        {
            return ReadValid(request, prefix, errors);
        }
        catch (InvalidOperationException exception) when (exception.Source?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true)
        {
            // System.Text.Json refuses to decode a lone UTF-16 surrogate ("\ud800") in a name or a string.
            errors[Key(prefix, EncounterRequestValidator.BodyKey)] = ["holds text that is not valid Unicode (a lone UTF-16 surrogate escape)"];
            return null;
        }
    }

    private ModelInput? ReadValid(JsonElement request, string prefix, IDictionary<string, string[]> errors)
    {
        var validation = validator.Validate(request);
        if (!validation.IsValid)
        {
            foreach (var field in validation.Errors.GroupBy(e => e.PropertyName))
            {
                errors[Key(prefix, field.Key)] = field.Select(e => e.ErrorMessage).ToArray();
            }

            return null;
        }

        switch (EncounterCleaner.Clean(ToRaw(request), requireLabel: false))
        {
            case CleaningResult.Cleaned cleaned:
                return ModelInput.FromClean(cleaned.Encounter);
            case CleaningResult.Invalid invalid:
                // The validator knows every cleaning rule; this guards the two against drifting apart.
                foreach (var error in invalid.Errors)
                {
                    errors[Key(prefix, error.Field)] = [error.Message];
                }

                return null;
            case CleaningResult.Excluded excluded:
                errors[Key(prefix, "discharge_disposition_id")] = [$"{excluded.DischargeDispositionId} is left out of the model ({excluded.Reason})"];
                return null;
            default:
                throw new InvalidOperationException("Unknown cleaning result.");
        }
    }

    private static string Key(string prefix, string field) =>
        field == EncounterRequestValidator.BodyKey && prefix.Length > 0 ? prefix.TrimEnd('.') : prefix + field;

    /// <summary>The request as the dataset would have written it: numbers and strings as text, unknown as null.</summary>
    private static RawEncounter ToRaw(JsonElement request)
    {
        var values = new string?[EncounterSchema.Columns.Count];
        foreach (var column in EncounterSchema.FeatureColumns)
        {
            var value = EncounterRequestValidator.Field(request, column.SourceName);
            values[column.Ordinal] = value.ValueKind switch
            {
                JsonValueKind.Number => EncounterJson.WholeNumber(value)!.Value.ToString(CultureInfo.InvariantCulture),
                JsonValueKind.String => value.GetString(),
                _ => null,
            };
        }

        return new RawEncounter(values);
    }
}
