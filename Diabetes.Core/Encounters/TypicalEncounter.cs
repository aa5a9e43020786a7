using System.Text.Json.Nodes;

namespace Diabetes.Core.Encounters;

/// <summary>
/// A typical encounter of the dataset, field by field as a prediction request writes it (numbers for the ids and
/// counts, dataset strings otherwise): the most frequent value of each category and about the median of each count.
/// It is the model folder's input example.
/// </summary>
public static class TypicalEncounter
{
    public static IReadOnlyList<KeyValuePair<string, object?>> Fields { get; } = Build();

    /// <summary>The typical encounter as a prediction request (a new object each time, free to change).</summary>
    public static JsonObject ToRequest() => new(Fields.Select(f => KeyValuePair.Create(f.Key, JsonValue.Create(f.Value) as JsonNode)));

    private static KeyValuePair<string, object?>[] Build()
    {
        var values = new Dictionary<string, object?>
        {
            ["race"] = "Caucasian",
            ["gender"] = "Female",
            ["age"] = "[70-80)",
            ["weight"] = null,
            ["admission_type_id"] = 1,
            ["discharge_disposition_id"] = 1,
            ["admission_source_id"] = 7,
            ["time_in_hospital"] = 4,
            ["payer_code"] = "MC",
            ["medical_specialty"] = "InternalMedicine",
            ["num_lab_procedures"] = 44,
            ["num_procedures"] = 1,
            ["num_medications"] = 15,
            ["number_outpatient"] = 0,
            ["number_emergency"] = 0,
            ["number_inpatient"] = 0,
            ["diag_1"] = "428",
            ["diag_2"] = "276",
            ["diag_3"] = "250",
            ["number_diagnoses"] = 9,
            ["max_glu_serum"] = "None",
            ["A1Cresult"] = "None",
            ["insulin"] = "Steady",
            ["change"] = "No",
            ["diabetesMed"] = "Yes",
        };
        return EncounterSchema.FeatureColumns
            .Select(c => KeyValuePair.Create(c.SourceName, values.TryGetValue(c.SourceName, out var value) ? value : "No"))
            .ToArray();
    }
}
