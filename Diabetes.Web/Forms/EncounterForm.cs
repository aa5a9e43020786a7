using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;

namespace Diabetes.Web.Forms;

public enum InputKind
{
    Select,
    Number,
    Text,
}

public sealed record FieldOption(string Value, string Label);

/// <summary>One input of the prediction form: a request field with its label, widget and allowed values.</summary>
public sealed record FormField(string Name, string Label, InputKind Kind, IReadOnlyList<FieldOption> Options, string? Hint);

public sealed record FormSection(string Title, IReadOnlyList<FormField> Fields);

/// <summary>
/// The prediction form, built from the dataset's schema and domain (the same the API validates against): select lists
/// for categories and codes (with the descriptions of <c>IDs_mapping.csv</c>), number inputs with the dataset's ranges,
/// and ICD-9 codes typed with a hint. It starts as the typical patient that ships with every model as its input example.
/// </summary>
public static class EncounterForm
{
    /// <summary>The value of the "unknown" choice of a field the dataset may leave unknown.</summary>
    public const string Unknown = "";

    private static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        ["race"] = "Race", ["gender"] = "Gender", ["age"] = "Age (years)", ["weight"] = "Weight (pounds)", ["payer_code"] = "Payer code",
        ["admission_type_id"] = "Admission type", ["admission_source_id"] = "Admission source", ["discharge_disposition_id"] = "Discharge disposition",
        ["time_in_hospital"] = "Days in hospital", ["medical_specialty"] = "Admitting specialty",
        ["num_lab_procedures"] = "Lab procedures", ["num_procedures"] = "Other procedures", ["num_medications"] = "Distinct medications",
        ["number_outpatient"] = "Outpatient visits in the past year", ["number_emergency"] = "Emergency visits in the past year",
        ["number_inpatient"] = "Inpatient visits in the past year", ["number_diagnoses"] = "Diagnoses entered",
        ["diag_1"] = "Primary diagnosis", ["diag_2"] = "Secondary diagnosis", ["diag_3"] = "Additional diagnosis",
        ["max_glu_serum"] = "Max glucose serum", ["A1Cresult"] = "HbA1c result", ["change"] = "Diabetes medication changed", ["diabetesMed"] = "Diabetes medication prescribed",
    };

    private static readonly (string Title, string[] Fields)[] Layout =
    [
        ("Patient", ["race", "gender", "age", "weight", "payer_code"]),
        ("Stay", ["admission_type_id", "admission_source_id", "discharge_disposition_id", "time_in_hospital", "medical_specialty"]),
        ("Activity", ["num_lab_procedures", "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses"]),
        ("Diagnoses (ICD-9)", ["diag_1", "diag_2", "diag_3"]),
        ("Lab results", ["max_glu_serum", "A1Cresult"]),
        ("Medication", ["change", "diabetesMed", .. EncounterSchema.MedicationNames]),
    ];

    public static IReadOnlyList<FormSection> Sections { get; } =
        Layout.Select(s => new FormSection(s.Title, s.Fields.Select(f => Field(EncounterSchema.Get(f))).ToArray())).ToArray();

    /// <summary>
    /// A field and its value as a person reads them, "Inpatient visits in the past year: 3", "Admission type: 1 –
    /// Emergency": the field's label, and the label of the value's choice when the field has choices.
    /// </summary>
    public static string Describe(string name, JsonElement? value)
    {
        var field = FieldsByName.GetValueOrDefault(name);
        var text = value switch
        {
            // 1.0 is the code 1, as the API reads it.
            { ValueKind: JsonValueKind.Number } number when EncounterJson.WholeNumber(number) is { } whole => whole.ToString(CultureInfo.InvariantCulture),
            { ValueKind: JsonValueKind.String or JsonValueKind.Number } given => given.ToString(),
            _ => Unknown,
        };
        var shown = field?.Options.FirstOrDefault(o => o.Value == text)?.Label ?? (text == Unknown ? "unknown" : text);
        return $"{field?.Label ?? name}: {shown}";
    }

    private static readonly Dictionary<string, FormField> FieldsByName = Sections.SelectMany(s => s.Fields).ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>The typical patient, field by field as the form holds it.</summary>
    public static Dictionary<string, string?> TypicalValues() => TypicalEncounter.Fields.ToDictionary(
        f => f.Key, f => f.Value is null ? Unknown : Convert.ToString(f.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>
    /// The prediction request of what the form holds: counts and codes as JSON numbers, other fields as strings, an
    /// empty field as unknown. What does not parse is sent as typed, for the API to name.
    /// </summary>
    public static JsonObject ToRequest(IReadOnlyDictionary<string, string?> values)
    {
        var request = new JsonObject();
        foreach (var column in EncounterSchema.FeatureColumns)
        {
            var value = values.GetValueOrDefault(column.SourceName)?.Trim();
            request[column.SourceName] = string.IsNullOrEmpty(value)
                ? null
                : column.Kind == ColumnKind.Integer && int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                    ? JsonValue.Create(number)
                    : JsonValue.Create(value);
        }

        return request;
    }

    /// <summary>An age bracket as people write it: <c>[70-80)</c> is "70–80".</summary>
    public static string AgeLabel(string bracket) => bracket.Trim('[', ')').Replace("-", "–", StringComparison.Ordinal);

    private static FormField Field(EncounterColumn column)
    {
        var name = column.SourceName;
        var label = Labels.GetValueOrDefault(name, name);
        if (EncounterDomain.Codes(name) is { } codes)
        {
            // Deaths and hospice are not scored (the API refuses them), so they are not offered.
            var offered = codes.Where(c => name != "discharge_disposition_id" || !EncounterCleaner.IsExcluded(c.Key));
            return new FormField(name, label, InputKind.Select,
                offered.OrderBy(c => c.Key).Select(c => new FieldOption(Text(c.Key), $"{c.Key} – {c.Value}")).ToArray(),
                name == "discharge_disposition_id" ? "Deaths and hospice (11, 13, 14, 19–21) are not scored." : null);
        }

        if (EncounterDomain.CountRanges.TryGetValue(name, out var range))
        {
            return new FormField(name, label, InputKind.Number, [], $"{range.Min}–{range.Max}");
        }

        var unknown = EncounterDomain.MayBeUnknown.Contains(name) ? [new FieldOption(Unknown, "(unknown)")] : Array.Empty<FieldOption>();
        if (EncounterDomain.Categories(name) is { } allowed)
        {
            var options = allowed.Select(value => new FieldOption(value, name is "age" or "weight" ? AgeLabel(value) : Describe(name, value)));
            return new FormField(name, label, InputKind.Select, [.. unknown, .. options], null);
        }

        return new FormField(name, label, InputKind.Text, [], "ICD-9 code, e.g. 428, 250.83, V57 or E909; empty if unknown");
    }

    private static string Describe(string field, string value) => (field, value) switch
    {
        ("max_glu_serum" or "A1Cresult", "None") => "not measured",
        ("change", "Ch") => "changed",
        _ => value,
    };

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
