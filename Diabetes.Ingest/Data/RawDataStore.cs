using System.Runtime.CompilerServices;
using Diabetes.Core.Data;
using Diabetes.Ingest.Data.Migrations;
using Npgsql;
using NpgsqlTypes;

namespace Diabetes.Ingest.Data;

/// <summary>The source RAW DATA was prepared from (one source at a time).</summary>
public sealed record SourceRecord(
    string Sha256,
    string Location,
    string FileName,
    string ObjectKey,
    string CsvEntry,
    long SizeBytes,
    int Rows,
    int RejectedRows,
    int TrainRows,
    int TrainBatches,
    int BatchSize,
    int ValidationRows,
    int TestRows,
    DateTimeOffset PreparedAt);

/// <summary>
/// A row of the ledger <c>ingest_batches</c>. Validation and test load whole, with no batch number. How long the load
/// took is unknown (null) for loads made before the ledger recorded it.
/// </summary>
public sealed record LedgerEntry(
    string Split, int? BatchNumber, int Rows, long FirstEncounterId, long LastEncounterId, string SourceSha256, DateTimeOffset LoadedAt,
    int? LoadMilliseconds);

/// <summary>
/// What one COPY loaded of one split: how many rows, the lowest and highest encounter id, and how long the COPY took
/// (one COPY may load two splits: validation and test are loaded together as the source is read).
/// </summary>
public sealed record SplitLoad(DatasetSplit Split, int Rows, long FirstEncounterId, long LastEncounterId, TimeSpan Elapsed);

/// <summary>A row of <c>raw_encounters</c>.</summary>
public sealed record RawEncounterRow(long EncounterId, long PatientNbr, DatasetSplit Split, int? BatchNumber, RawEncounter Encounter);

/// <summary>RAW DATA (database <c>rawdata</c>): what was received, as text, and the ledger of what was loaded.</summary>
public sealed class RawDataStore([FromKeyedServices(RawDataStore.ConnectionName)] NpgsqlDataSource dataSource, DatabaseSchema<RawDataContext> schema)
{
    public const string ConnectionName = "rawdata";

    /// <summary>Advisory lock that serialises every write to RAW DATA.</summary>
    private const long WriteLock = 0x5241_5744_4154_41; // "RAWDATA"

    private static readonly EncounterColumn[] TextColumns =
        EncounterSchema.Columns.Where(c => c.Kind != ColumnKind.Identifier).ToArray();

    private static readonly string SourceColumnList = string.Join(", ", EncounterSchema.Columns.Select(c => c.DbName));


    /// <summary>Runs <paramref name="work"/> in one transaction holding RAW DATA's write lock.</summary>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        return await dataSource.InLockedTransactionAsync(WriteLock, work, cancellationToken);
    }

    public async Task<SourceRecord?> GetSourceAsync(CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await GetSourceAsync(connection, cancellationToken);
    }

    public static async Task<SourceRecord?> GetSourceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand("""
            SELECT source_sha256, location, file_name, object_key, csv_entry, size_bytes, total_rows, rejected_rows,
                   train_rows, train_batches, batch_size, validation_rows, test_rows, prepared_at
            FROM dataset_sources ORDER BY prepared_at LIMIT 1
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new SourceRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.GetString(4), reader.GetInt64(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8),
            reader.GetInt32(9), reader.GetInt32(10), reader.GetInt32(11), reader.GetInt32(12),
            reader.GetFieldValue<DateTimeOffset>(13));
    }

    public static Task InsertSourceAsync(NpgsqlConnection connection, SourceRecord source, CancellationToken cancellationToken) =>
        connection.ExecuteAsync("""
            INSERT INTO dataset_sources (source_sha256, location, file_name, object_key, csv_entry, size_bytes, total_rows,
                rejected_rows, train_rows, train_batches, batch_size, validation_rows, test_rows)
            VALUES (@sha, @location, @file, @key, @entry, @size, @rows, @rejected, @train, @batches, @batchSize, @validation, @test)
            """, cancellationToken,
            ("sha", source.Sha256), ("location", source.Location), ("file", source.FileName), ("key", source.ObjectKey),
            ("entry", source.CsvEntry), ("size", source.SizeBytes), ("rows", source.Rows), ("rejected", source.RejectedRows),
            ("train", source.TrainRows), ("batches", source.TrainBatches), ("batchSize", source.BatchSize),
            ("validation", source.ValidationRows), ("test", source.TestRows));

    public static async Task InsertRejectedAsync(
        NpgsqlConnection connection, string sha256, IEnumerable<RejectedRow> rejected, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY rejected_rows (source_sha256, line_number, reason, content) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in rejected)
        {
            writer.StartRow();
            writer.Write(sha256, NpgsqlDbType.Text);
            writer.Write(row.LineNumber, NpgsqlDbType.Bigint);
            writer.Write(row.Reason, NpgsqlDbType.Text);
            writer.Write(row.Content, NpgsqlDbType.Text);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// Loads rows by binary COPY as they come (with <paramref name="batchNumber"/>, for train), holding none of them;
    /// answers what was loaded of each split, for the ledger.
    /// </summary>
    public static async Task<IReadOnlyList<SplitLoad>> CopyAsync(
        NpgsqlConnection connection, int? batchNumber, IEnumerable<SourceRow> rows, CancellationToken cancellationToken)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var splits = Enum.GetValues<DatasetSplit>();
        var tallies = new (int Rows, long First, long Last)[splits.Length];
        await using (var writer = await connection.BeginBinaryImportAsync(
            $"COPY raw_encounters ({SourceColumnList}, split, batch_number, source_line) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            // Synchronous typed writes into the COPY buffer: no task per field.
            foreach (var row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.StartRow();
                writer.Write(row.EncounterId, NpgsqlDbType.Bigint);
                writer.Write(row.PatientNbr, NpgsqlDbType.Bigint);
                foreach (var column in TextColumns)
                {
                    writer.Write(row.Fields[column.Ordinal], NpgsqlDbType.Text);
                }

                writer.Write(row.Split.ToName(), NpgsqlDbType.Text);
                writer.WriteNullable(batchNumber);
                writer.Write(row.LineNumber, NpgsqlDbType.Bigint);
                ref var tally = ref tallies[(int)row.Split];
                tally = tally.Rows == 0
                    ? (1, row.EncounterId, row.EncounterId)
                    : (tally.Rows + 1, Math.Min(tally.First, row.EncounterId), Math.Max(tally.Last, row.EncounterId));
            }

            await writer.CompleteAsync(cancellationToken);
        }

        return splits.Where(split => tallies[(int)split].Rows > 0)
            .Select(split => new SplitLoad(split, tallies[(int)split].Rows, tallies[(int)split].First, tallies[(int)split].Last, stopwatch.Elapsed))
            .ToArray();
    }

    /// <summary>Records a load in the ledger (with its batch number, for train).</summary>
    public static Task<LedgerEntry> RecordAsync(
        NpgsqlConnection connection, string sha256, int? batchNumber, SplitLoad load, CancellationToken cancellationToken) =>
        connection.ExecuteReturningLedgerAsync("""
            INSERT INTO ingest_batches (source_sha256, split, batch_number, rows, first_encounter_id, last_encounter_id, load_milliseconds)
            VALUES (@sha, @split, @batch, @rows, @first, @last, @milliseconds)
            RETURNING split, batch_number, rows, first_encounter_id, last_encounter_id, source_sha256, loaded_at, load_milliseconds
            """, cancellationToken,
            ("sha", sha256), ("split", load.Split.ToName()), ("batch", batchNumber), ("rows", load.Rows),
            ("first", load.FirstEncounterId), ("last", load.LastEncounterId), ("milliseconds", (int)load.Elapsed.TotalMilliseconds));

    public static Task<long> CountTrainBatchesAsync(NpgsqlConnection connection, string sha256, CancellationToken cancellationToken) =>
        connection.ScalarAsync<long>("SELECT count(*) FROM ingest_batches WHERE source_sha256 = @sha AND split = 'train'",
            cancellationToken, ("sha", sha256));

    /// <summary>The highest encounter id of the train batches loaded so far (0 before the first).</summary>
    public static Task<long> LastTrainEncounterIdAsync(NpgsqlConnection connection, string sha256, CancellationToken cancellationToken) =>
        connection.ScalarAsync<long>("SELECT coalesce(max(last_encounter_id), 0) FROM ingest_batches WHERE source_sha256 = @sha AND split = 'train'",
            cancellationToken, ("sha", sha256));

    public static Task<long> CountTrainRowsAsync(NpgsqlConnection connection, string sha256, CancellationToken cancellationToken) =>
        connection.ScalarAsync<long>("SELECT coalesce(sum(rows), 0) FROM ingest_batches WHERE source_sha256 = @sha AND split = 'train'",
            cancellationToken, ("sha", sha256));

    public async Task<IReadOnlyList<LedgerEntry>> GetLedgerAsync(CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand("""
            SELECT split, batch_number, rows, first_encounter_id, last_encounter_id, source_sha256, loaded_at, load_milliseconds
            FROM ingest_batches ORDER BY id
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(ReadLedgerEntry(reader));
        }

        return entries;
    }

    public async Task<IReadOnlyDictionary<string, long>> CountBySplitAsync(CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.CountBySplitAsync("raw_encounters", cancellationToken);
    }

    /// <summary>The rows of one ledger entry, or every row when <paramref name="entry"/> is null.</summary>
    public async IAsyncEnumerable<RawEncounterRow> ReadAsync(LedgerEntry? entry, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = entry is null
            ? connection.CreateCommand($"SELECT {SourceColumnList}, split, batch_number FROM raw_encounters ORDER BY encounter_id")
            // "batch_number IS NOT DISTINCT FROM @batch" would read the whole table: each form below uses the index
            // on (split, batch_number). A batch's rows come in no set order: CLEAN DATA is keyed by encounter_id.
            : entry.BatchNumber is { } batchNumber
                ? connection.CreateCommand(
                    $"SELECT {SourceColumnList}, split, batch_number FROM raw_encounters WHERE split = @split AND batch_number = @batch",
                    ("split", entry.Split), ("batch", batchNumber))
                : connection.CreateCommand(
                    $"SELECT {SourceColumnList}, split, batch_number FROM raw_encounters WHERE split = @split AND batch_number IS NULL",
                    ("split", entry.Split));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var columns = EncounterSchema.Columns.Count;
        while (await reader.ReadAsync(cancellationToken))
        {
            var values = new string?[columns];
            values[0] = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            values[1] = reader.GetInt64(1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (var i = 2; i < columns; i++)
            {
                values[i] = reader.GetString(i);
            }

            yield return new RawEncounterRow(reader.GetInt64(0), reader.GetInt64(1), SplitRule.Parse(reader.GetString(columns)),
                reader.IsDBNull(columns + 1) ? null : reader.GetInt32(columns + 1), new RawEncounter(values));
        }
    }

    public async Task<IReadOnlyList<RejectedRow>> GetRejectedAsync(int limit, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand(
            "SELECT line_number, reason, content FROM rejected_rows ORDER BY line_number LIMIT @limit", ("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<RejectedRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new RejectedRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    internal static LedgerEntry ReadLedgerEntry(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3),
        reader.GetInt64(4), reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetInt32(7));
}

internal static class RawDataQueries
{
    public static async Task<LedgerEntry> ExecuteReturningLedgerAsync(
        this NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return RawDataStore.ReadLedgerEntry(reader);
    }

    /// <summary>Rows per split of a table with a <c>split</c> column; every split is present, with 0 when empty.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> CountBySplitAsync(
        this NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        var counts = Enum.GetValues<DatasetSplit>().ToDictionary(s => s.ToName(), _ => 0L);
        await using var command = connection.CreateCommand($"SELECT split, count(*) FROM {table} GROUP BY split");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }
}
