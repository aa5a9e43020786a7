using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Ingest.Sources;

namespace Diabetes.Bench;

/// <summary>One usable encounter of the dataset: its source row as received (with its split) and its cleaned form.</summary>
public sealed record DatasetEncounter(SourceRow Row, CleanEncounter Clean)
{
    public RawEncounter Raw => new(Row.Fields);
}

/// <summary>The dataset as the ingest service reads, splits and cleans it, without its services or databases.</summary>
public static class DatasetEncounters
{
    /// <summary>
    /// The encounters CLEAN DATA would hold (death and hospice left out, as cleaning does), in <c>encounter_id</c> order
    /// (the arrival order): read by the ingest service's parser, split by its rule, cleaned by the shared rules.
    /// </summary>
    public static List<DatasetEncounter> Load(string datasetPath)
    {
        var encounters = new List<DatasetEncounter>();
        using var source = SourceParser.Open(datasetPath);
        foreach (var row in source.Rows().OrderBy(r => r.EncounterId))
        {
            if (EncounterCleaner.Clean(new RawEncounter(row.Fields)) is CleaningResult.Cleaned cleaned)
            {
                encounters.Add(new DatasetEncounter(row, cleaned.Encounter));
            }
        }

        return encounters;
    }
}
