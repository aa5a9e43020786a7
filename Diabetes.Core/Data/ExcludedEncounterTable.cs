namespace Diabetes.Core.Data;

/// <summary>
/// The table <c>excluded_encounters</c> in CLEAN DATA: the encounters the cleaning left out (death, hospice, values
/// that break the dataset's rules), each with its split, batch and reason. Written by the ingest service in the same
/// transaction as the batch's clean rows; the trainer counts them for the model card.
/// </summary>
public static class ExcludedEncounterTable
{
    public const string Name = "excluded_encounters";

    /// <summary>The table as the ingest service's migration creates it, for tests that fill CLEAN DATA without that service.</summary>
    public static string CreateSql { get; } = $"""
        CREATE TABLE IF NOT EXISTS {Name} (
            encounter_id bigint PRIMARY KEY,
            split text NOT NULL,
            batch_number integer,
            reason text NOT NULL,
            detail text NOT NULL,
            excluded_at timestamptz NOT NULL DEFAULT now()
        );
        """;
}
