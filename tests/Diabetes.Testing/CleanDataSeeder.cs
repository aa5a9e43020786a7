using Diabetes.Core.Cleaning;
using Diabetes.Core.Csv;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Npgsql;

namespace Diabetes.Testing;

/// <summary>
/// Fills CLEAN DATA straight from dataset lines with the platform's own rules (split, cleaning, the table's COPY
/// writer), as the ingest service would after prepare, batches and clean: for tests of what reads CLEAN DATA.
/// </summary>
public static class CleanDataSeeder
{
    public const string SourceSha256 = "3a17a3b55b6dd4a1926703185c0ad8e2ed30bc8e2f9b927cdd1000b733d1de8e";

    /// <summary>Creates the table in <paramref name="connectionString"/>'s database and loads the lines (header first).</summary>
    public static async Task<IReadOnlyList<CleanEncounterRow>> SeedAsync(string connectionString, IEnumerable<string> lines, int batchSize)
    {
        var records = new CsvRecordReader(new StringReader(string.Join("\n", lines))).ReadAll().Skip(1).ToList();
        var rows = new List<CleanEncounterRow>();
        var trainSeen = 0;
        foreach (var record in records.OrderBy(r => long.Parse(r.Fields[0])))
        {
            var raw = new RawEncounter(record.Fields);
            var patient = long.Parse(record.Fields[1]);
            var split = SplitRule.Assign(patient);
            int? batch = split == DatasetSplit.Train ? trainSeen++ / batchSize + 1 : null;
            if (EncounterCleaner.Clean(raw) is CleaningResult.Cleaned cleaned)
            {
                rows.Add(new CleanEncounterRow(long.Parse(record.Fields[0]), patient, split, batch, SourceSha256, cleaned.Encounter));
            }
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(CleanEncounterTable.CreateSql, CancellationToken.None);
        await CleanEncounterTable.CopyAsync(connection, rows.ToAsyncEnumerable(), CancellationToken.None);
        return rows;
    }
}
