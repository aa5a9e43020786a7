using Diabetes.Core.Data;
using Diabetes.Ingest.Data.Migrations;
using Npgsql;
using NpgsqlTypes;

namespace Diabetes.Ingest.Data;

/// <summary>An encounter left out of CLEAN DATA, with why.</summary>
public sealed record ExcludedEncounter(long EncounterId, DatasetSplit Split, int? BatchNumber, string Reason, string Detail);

/// <summary>CLEAN DATA (database <c>cleandata</c>): typed, cleaned rows, the rows left out, and which RAW batches are done.</summary>
public sealed class CleanDataStore([FromKeyedServices(CleanDataStore.ConnectionName)] NpgsqlDataSource dataSource, DatabaseSchema<CleanDataContext> schema)
{
    public const string ConnectionName = "cleandata";

    /// <summary>The reason given for a row whose values break the dataset's rules.</summary>
    public const string InvalidReason = EncounterCleaner.ExcludedInvalid;

    private const long WriteLock = 0x434C_4541_4E44_41; // "CLEANDA"


    /// <summary>
    /// Writes one RAW batch's outcome in a single transaction, the cleaned rows by binary COPY as they come, unless that
    /// batch was cleaned already (by an earlier call or a concurrent one): then it reads and writes nothing and answers null.
    /// Answers the rows cleaned otherwise.
    /// </summary>
    /// <param name="excluded">The rows left out, complete once <paramref name="cleaned"/> has been read to its end.</param>
    public async Task<int?> SaveBatchAsync(
        LedgerEntry batch, IAsyncEnumerable<CleanEncounterRow> cleaned, IReadOnlyCollection<ExcludedEncounter> excluded,
        CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        return await dataSource.InLockedTransactionAsync(WriteLock, async connection =>
        {
            var done = await connection.ScalarAsync<bool>("""
                SELECT EXISTS (SELECT 1 FROM cleaned_batches
                               WHERE source_sha256 = @sha AND split = @split AND batch_number IS NOT DISTINCT FROM @batch)
                """, cancellationToken, ("sha", batch.SourceSha256), ("split", batch.Split), ("batch", batch.BatchNumber));
            if (done)
            {
                return (int?)null;
            }

            var cleanedRows = (int)await CleanEncounterTable.CopyAsync(connection, cleaned, cancellationToken);
            await CopyExcludedAsync(connection, excluded, cancellationToken);
            await connection.ExecuteAsync("""
                INSERT INTO cleaned_batches (source_sha256, split, batch_number, cleaned_rows, excluded_rows)
                VALUES (@sha, @split, @batch, @cleaned, @excluded)
                """, cancellationToken, ("sha", batch.SourceSha256), ("split", batch.Split), ("batch", batch.BatchNumber),
                ("cleaned", cleanedRows), ("excluded", excluded.Count));
            return cleanedRows;
        }, cancellationToken);
    }

    /// <summary>The RAW batches already cleaned, as (split, batch number) keys.</summary>
    public async Task<IReadOnlySet<(string Split, int? BatchNumber)>> GetCleanedBatchesAsync(string sha256, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand(
            "SELECT split, batch_number FROM cleaned_batches WHERE source_sha256 = @sha", ("sha", sha256));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var batches = new HashSet<(string, int?)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            batches.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt32(1)));
        }

        return batches;
    }

    public async Task<CleanCounts> CountAsync(CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.CountBySplitAsync(CleanEncounterTable.Name, cancellationToken);
        var excluded = new Dictionary<string, long>();
        await using (var command = connection.CreateCommand("SELECT reason, count(*) FROM excluded_encounters GROUP BY reason ORDER BY reason"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                excluded[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        var positives = Enum.GetValues<DatasetSplit>().ToDictionary(s => s.ToName(), _ => 0L);
        await using (var command = connection.CreateCommand(
            $"SELECT split, count(*) FROM {CleanEncounterTable.Name} WHERE readmitted_within_30_days GROUP BY split"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                positives[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        return new CleanCounts(rows, positives, excluded);
    }

    private static async Task CopyExcludedAsync(NpgsqlConnection connection, IEnumerable<ExcludedEncounter> excluded, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY excluded_encounters (encounter_id, split, batch_number, reason, detail) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in excluded)
        {
            writer.StartRow();
            writer.Write(row.EncounterId, NpgsqlDbType.Bigint);
            writer.Write(row.Split.ToName(), NpgsqlDbType.Text);
            writer.WriteNullable(row.BatchNumber);
            writer.Write(row.Reason, NpgsqlDbType.Text);
            writer.Write(row.Detail, NpgsqlDbType.Text);
        }

        await writer.CompleteAsync(cancellationToken);
    }
}

/// <summary>Rows in CLEAN DATA by split, label positives by split, and rows left out by reason.</summary>
public sealed record CleanCounts(
    IReadOnlyDictionary<string, long> RowsBySplit,
    IReadOnlyDictionary<string, long> PositivesBySplit,
    IReadOnlyDictionary<string, long> ExcludedByReason);
