using System.Data;
using System.Security.Cryptography;
using System.Text;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Npgsql;

namespace Diabetes.Trainer.Training;

/// <summary>
/// One split of CLEAN DATA as the models read it, with what identifies its rows (lineage); the rows as read from the
/// table are not kept.
/// </summary>
public sealed record SplitData(
    DatasetSplit Split, IReadOnlyList<ModelInput> Inputs, IReadOnlyList<int> Batches, IReadOnlyList<string> SourceSha256, string Digest)
{
    public int Count => Inputs.Count;

    public int Positives { get; } = Inputs.Count(i => i.Label);

    /// <summary>Both outcomes occur: what a model can be fitted on or judged by.</summary>
    public bool HasBothOutcomes => Positives > 0 && Positives < Count;

    /// <summary>The model inputs and the lineage of rows read from <c>clean_encounters</c>.</summary>
    public static async Task<SplitData> ReadAsync(DatasetSplit split, IAsyncEnumerable<CleanEncounterRow> rows)
    {
        var inputs = new List<ModelInput>();
        var encounterIds = new List<long>();
        var batches = new SortedSet<int>();
        var sources = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var row in rows)
        {
            inputs.Add(ModelInput.FromClean(row.Encounter));
            encounterIds.Add(row.EncounterId);
            sources.Add(row.SourceSha256);
            if (row.BatchNumber is { } batch)
            {
                batches.Add(batch);
            }
        }

        // SHA-256 of the sorted encounter ids: the same rows always give the same digest.
        encounterIds.Sort();
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join(',', encounterIds))));
        return new SplitData(split, inputs, [.. batches], [.. sources], digest);
    }
}

/// <summary>How many encounters of a split the cleaning left out for one reason (<c>expired</c>, <c>hospice</c>, <c>invalid</c>).</summary>
public sealed record ExcludedEncounters(DatasetSplit Split, string Reason, int Rows);

/// <summary>
/// What a training job reads: the three splits of CLEAN DATA as of one moment, and the encounters the cleaning left
/// out of the batches read.
/// </summary>
public sealed record TrainingSnapshot(SplitData Train, SplitData Validation, SplitData Test, IReadOnlyList<ExcludedEncounters> Excluded)
{
    /// <summary>Where a model trained on this snapshot comes from: the source files of train and validation, the train batches.</summary>
    public ModelLineage Lineage() =>
        new([.. Train.SourceSha256.Union(Validation.SourceSha256)], Train.Batches, Train.Count, Validation.Count, Train.Digest);
}

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
    /// batch (one transaction of the clean step, its left-out encounters included) wholly in or wholly out, whatever
    /// commits while they are read.
    /// </summary>
    public async Task<TrainingSnapshot> ReadSnapshotAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await connection.ExecuteAsync("SET TRANSACTION READ ONLY", cancellationToken);
        var train = await ReadAsync(connection, DatasetSplit.Train, cancellationToken);
        var snapshot = new TrainingSnapshot(
            train,
            await ReadAsync(connection, DatasetSplit.Validation, cancellationToken),
            await ReadAsync(connection, DatasetSplit.Test, cancellationToken),
            await ReadExcludedAsync(connection, train.Batches, cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return snapshot;
    }

    /// <summary>
    /// The encounters the ingest service's cleaning left out (<c>excluded_encounters</c>), by split and reason, of the
    /// train batches read and of validation and test; none when nothing was cleaned yet.
    /// </summary>
    private static async Task<IReadOnlyList<ExcludedEncounters>> ReadExcludedAsync(
        NpgsqlConnection connection, IReadOnlyList<int> trainBatches, CancellationToken cancellationToken)
    {
        if (!await connection.ScalarAsync<bool>($"SELECT to_regclass('{ExcludedEncounterTable.Name}') IS NOT NULL", cancellationToken))
        {
            return [];
        }

        await using var command = connection.CreateCommand($"""
            SELECT split, reason, count(*)::int FROM {ExcludedEncounterTable.Name}
            WHERE split <> 'train' OR batch_number = ANY(@batches)
            GROUP BY split, reason ORDER BY split, reason
            """, ("batches", trainBatches.ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var excluded = new List<ExcludedEncounters>();
        while (await reader.ReadAsync(cancellationToken))
        {
            excluded.Add(new ExcludedEncounters(SplitRule.Parse(reader.GetString(0)), reader.GetString(1), reader.GetInt32(2)));
        }

        return excluded;
    }

    private static async Task<SplitData> ReadAsync(NpgsqlConnection connection, DatasetSplit split, CancellationToken cancellationToken)
    {
        var exists = await connection.ScalarAsync<bool>($"SELECT to_regclass('{CleanEncounterTable.Name}') IS NOT NULL", cancellationToken);
        if (!exists)
        {
            return await SplitData.ReadAsync(split, AsyncEnumerable.Empty<CleanEncounterRow>());
        }

        await using var command = connection.CreateCommand(
            $"{CleanEncounterTable.SelectSql} WHERE split = @split ORDER BY encounter_id", ("split", split.ToName()));
        return await SplitData.ReadAsync(split, CleanEncounterTable.ReadAsync(command, cancellationToken));
    }
}
