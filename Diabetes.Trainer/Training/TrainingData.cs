using System.Data;
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

/// <summary>What a training job reads: the three splits of CLEAN DATA as of one moment.</summary>
public sealed record TrainingSnapshot(SplitData Train, SplitData Validation, SplitData Test);

/// <summary>Reads CLEAN DATA (<c>clean_encounters</c> in the <c>cleandata</c> database) split by split.</summary>
public sealed class CleanDataReader([FromKeyedServices(CleanDataReader.ConnectionName)] NpgsqlDataSource dataSource)
{
    public const string ConnectionName = "cleandata";

    /// <summary>The rows of a split present now; none when the table does not exist yet (nothing was cleaned).</summary>
    public async Task<SplitData> ReadAsync(DatasetSplit split, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, split, cancellationToken);
    }

    /// <summary>
    /// Train, validation and test in one repeatable-read transaction: the three splits as of one moment, each cleaned
    /// batch (one transaction of the clean step) wholly in or wholly out, whatever commits while they are read.
    /// </summary>
    public async Task<TrainingSnapshot> ReadSnapshotAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await connection.ExecuteAsync("SET TRANSACTION READ ONLY", cancellationToken);
        var snapshot = new TrainingSnapshot(
            await ReadAsync(connection, DatasetSplit.Train, cancellationToken),
            await ReadAsync(connection, DatasetSplit.Validation, cancellationToken),
            await ReadAsync(connection, DatasetSplit.Test, cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return snapshot;
    }

    private static async Task<SplitData> ReadAsync(NpgsqlConnection connection, DatasetSplit split, CancellationToken cancellationToken)
    {
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
