using Diabetes.Core.Cleaning;
using Diabetes.Core.Csv;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Npgsql;

namespace Diabetes.Testing;

/// <summary>
/// Fills CLEAN DATA straight from dataset lines with the platform's own rules (split, cleaning, the table's COPY
/// writer), as the ingest service would after prepare, batches and clean, the encounters the cleaning leaves out
/// included: for tests of what reads CLEAN DATA.
/// </summary>
public static class CleanDataSeeder
{
    public const string SourceSha256 = "3a17a3b55b6dd4a1926703185c0ad8e2ed30bc8e2f9b927cdd1000b733d1de8e";

    /// <summary>Creates the tables in <paramref name="connectionString"/>'s database and loads the lines (header first).</summary>
    public static async Task<IReadOnlyList<CleanEncounterRow>> SeedAsync(string connectionString, IEnumerable<string> lines, int batchSize)
    {
        var records = new CsvRecordReader(new StringReader(string.Join("\n", lines))).ReadAll().Skip(1).ToList();
        var rows = new List<CleanEncounterRow>();
        var excluded = new List<(long EncounterId, DatasetSplit Split, int? Batch, string Reason, string Detail)>();
        var trainSeen = 0;
        foreach (var record in records.OrderBy(r => long.Parse(r.Fields[0])))
        {
            var raw = new RawEncounter(record.Fields);
            var patient = long.Parse(record.Fields[1]);
            var split = SplitRule.Assign(patient);
            int? batch = split == DatasetSplit.Train ? trainSeen++ / batchSize + 1 : null;
            var encounterId = long.Parse(record.Fields[0]);
            switch (EncounterCleaner.Clean(raw))
            {
                case CleaningResult.Cleaned cleaned:
                    rows.Add(new CleanEncounterRow(encounterId, patient, split, batch, SourceSha256, cleaned.Encounter));
                    break;
                case CleaningResult.Excluded left:
                    excluded.Add((encounterId, split, batch, left.Reason, $"discharge_disposition_id {left.DischargeDispositionId}"));
                    break;
                case CleaningResult.Invalid invalid:
                    excluded.Add((encounterId, split, batch, EncounterCleaner.ExcludedInvalid, $"{invalid.Errors.Count} fields break the dataset's rules"));
                    break;
            }
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(CleanEncounterTable.CreateSql + ExcludedEncounterTable.CreateSql, CancellationToken.None);
        await CleanEncounterTable.CopyAsync(connection, rows.ToAsyncEnumerable(), CancellationToken.None);
        await connection.ExecuteAsync($"""
            INSERT INTO {ExcludedEncounterTable.Name} (encounter_id, split, batch_number, reason, detail)
            SELECT * FROM unnest(@ids, @splits, @batches, @reasons, @details)
            """, CancellationToken.None,
            ("ids", excluded.Select(e => e.EncounterId).ToArray()), ("splits", excluded.Select(e => e.Split.ToName()).ToArray()),
            ("batches", excluded.Select(e => e.Batch).ToArray()), ("reasons", excluded.Select(e => e.Reason).ToArray()),
            ("details", excluded.Select(e => e.Detail).ToArray()));
        return rows;
    }
}
