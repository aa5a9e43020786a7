using System.Security.Cryptography;
using System.Text;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Npgsql;

namespace Diabetes.Trainer.Training;

/// <summary>The rows of one split of CLEAN DATA, with what identifies them (lineage).</summary>
public sealed record SplitData(DatasetSplit Split, IReadOnlyList<CleanEncounterRow> Rows)
{
    public IReadOnlyList<int> Batches { get; } = Rows.Where(r => r.BatchNumber is not null).Select(r => r.BatchNumber!.Value).Distinct().Order().ToArray();

    public IReadOnlyList<string> SourceSha256 { get; } = Rows.Select(r => r.SourceSha256).Distinct().Order(StringComparer.Ordinal).ToArray();

    public int Positives { get; } = Rows.Count(r => r.Encounter.ReadmittedWithin30Days == true);

    /// <summary>SHA-256 of the sorted encounter ids: the same rows always give the same digest.</summary>
    public string Digest { get; } = Convert.ToHexStringLower(SHA256.HashData(
        Encoding.ASCII.GetBytes(string.Join(',', Rows.Select(r => r.EncounterId).Order()))));
}

/// <summary>Reads CLEAN DATA (<c>clean_encounters</c> in the <c>cleandata</c> database) split by split.</summary>
public sealed class CleanDataReader([FromKeyedServices(CleanDataReader.ConnectionName)] NpgsqlDataSource dataSource)
{
    public const string ConnectionName = "cleandata";

    /// <summary>The rows of a split present now; none when the table does not exist yet (nothing was cleaned).</summary>
    public async Task<SplitData> ReadAsync(DatasetSplit split, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var exists = await connection.ScalarAsync<bool>($"SELECT to_regclass('{CleanEncounterTable.Name}') IS NOT NULL", cancellationToken);
        if (!exists)
        {
            return new SplitData(split, []);
        }

        await using var command = connection.CreateCommand(
            $"{CleanEncounterTable.SelectSql} WHERE split = @split ORDER BY encounter_id", ("split", split.ToName()));
        var rows = new List<CleanEncounterRow>();
        await foreach (var row in CleanEncounterTable.ReadAsync(command, cancellationToken))
        {
            rows.Add(row);
        }

        return new SplitData(split, rows);
    }
}
