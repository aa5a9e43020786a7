using System.Globalization;
using System.Text.Json.Nodes;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Csv;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Testing;

namespace Diabetes.Testing.Models;

/// <summary>Encounters of the real dataset, as prediction requests and as the model inputs training made of them.</summary>
public static class TestEncounters
{
    private static readonly Lazy<IReadOnlyList<(RawEncounter Raw, ModelInput Input)>> Usable = new(Load);

    /// <summary>The usable encounters (not expired, not hospice) of the dataset's first lines, in file order.</summary>
    public static IReadOnlyList<(RawEncounter Raw, ModelInput Input)> All => Usable.Value;

    /// <summary>A request as a caller writes it: ids and counts as JSON numbers, other fields as strings, unknown as null.</summary>
    public static JsonObject Request(RawEncounter raw)
    {
        var request = new JsonObject();
        foreach (var column in EncounterSchema.FeatureColumns)
        {
            var value = EncounterCleaner.Missing(raw[column]);
            request[column.SourceName] = value is null
                ? null
                : column.Kind == ColumnKind.Integer ? JsonValue.Create(int.Parse(value, CultureInfo.InvariantCulture)) : JsonValue.Create(value);
        }

        return request;
    }

    private static IReadOnlyList<(RawEncounter, ModelInput)> Load()
    {
        // The file's columns are in the schema's order, as CleanDataSeeder reads them too.
        var rows = new List<(RawEncounter, ModelInput)>();
        var reader = new CsvRecordReader(new StringReader(string.Join("\n", TestData.CsvLines.Skip(1).Take(12_000))));
        foreach (var record in reader.ReadAll())
        {
            var raw = new RawEncounter(record.Fields);
            if (EncounterCleaner.Clean(raw) is CleaningResult.Cleaned cleaned)
            {
                rows.Add((raw, ModelInput.FromClean(cleaned.Encounter)));
            }
        }

        return rows;
    }
}
