using System.Globalization;
using System.IO.Compression;
using System.Text;
using Diabetes.Core.Csv;
using Diabetes.Core.Text;

namespace Diabetes.Ingest.Sources;

/// <summary>A usable source line: the 50 fields in schema order, exactly as received.</summary>
public sealed record SourceRow(long LineNumber, long EncounterId, long PatientNbr, DatasetSplit Split, string[] Fields);

/// <summary>A source line that cannot be loaded, with the reason and the line as read.</summary>
public sealed record RejectedRow(long LineNumber, string Reason, string Content);

/// <summary>The dataset read from one source file.</summary>
public sealed record ParsedSource(string CsvEntry, IReadOnlyList<SourceRow> Rows, IReadOnlyList<RejectedRow> Rejected)
{
    /// <summary>The train rows in arrival order (<c>encounter_id</c>): batch k is the k-th slice of this list.</summary>
    public IReadOnlyList<SourceRow> TrainRowsInArrivalOrder() =>
        Rows.Where(r => r.Split == DatasetSplit.Train).OrderBy(r => r.EncounterId).ToArray();

    public IReadOnlyList<SourceRow> RowsOf(DatasetSplit split) => Rows.Where(r => r.Split == split).ToArray();
}

/// <summary>
/// Reads <c>diabetic_data.csv</c> from a zip archive or a bare CSV file. Structural faults of a line (field
/// count, quoting, ids) reject that line with its reason; a file that is not the dataset at all is refused whole.
/// </summary>
public static class SourceParser
{
    public const string DataFileName = "diabetic_data.csv";
    private const int MaxRejectedContent = 1_000;
    private static readonly byte[] ZipSignature = "PK\u0003\u0004"u8.ToArray();

    public static ParsedSource Parse(string path)
    {
        using var file = File.OpenRead(path);
        if (file.Length == 0)
        {
            throw IngestProblemException.UnusableSource("The source file is empty.");
        }

        Span<byte> signature = stackalloc byte[ZipSignature.Length];
        var read = file.ReadAtLeast(signature, signature.Length, throwOnEndOfStream: false);
        file.Position = 0;

        if (read == ZipSignature.Length && signature.SequenceEqual(ZipSignature))
        {
            using var archive = OpenArchive(file);
            var entry = FindDataEntry(archive);
            using var entryStream = entry.Open();
            return ParseCsv(entryStream, entry.FullName);
        }

        return ParseCsv(file, Path.GetFileName(path));
    }

    private static ZipArchive OpenArchive(Stream stream)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException exception)
        {
            throw IngestProblemException.UnusableSource($"The source looks like a zip archive but cannot be read: {exception.Message}");
        }
    }

    /// <summary><c>diabetic_data.csv</c> anywhere in the archive, else its only CSV that is not <c>IDs_mapping.csv</c>.</summary>
    private static ZipArchiveEntry FindDataEntry(ZipArchive archive)
    {
        var csvEntries = archive.Entries
            .Where(e => e.Name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
                && !e.Name.Equals("IDs_mapping.csv", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        return csvEntries.FirstOrDefault(e => e.Name.Equals(DataFileName, StringComparison.OrdinalIgnoreCase))
            ?? (csvEntries.Length == 1
                ? csvEntries[0]
                : throw IngestProblemException.UnusableSource(
                    $"The archive holds no {DataFileName} (CSV files in it: {(csvEntries.Length == 0 ? "none" : string.Join(", ", csvEntries.Select(e => e.FullName)))})."));
    }

    private static ParsedSource ParseCsv(Stream stream, string entryName)
    {
        using var text = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
        var pool = new StringPool();
        var reader = new CsvRecordReader(text, pool.Get);
        var header = reader.Read() ?? throw IngestProblemException.UnusableSource($"{entryName} is empty.");
        var ordinals = MapHeader(header.Fields, entryName);

        var rows = new List<SourceRow>(capacity: 110_000);
        var rejected = new List<RejectedRow>();
        var firstLineOfEncounter = new Dictionary<long, long>(capacity: 110_000);

        foreach (var record in reader.ReadAll())
        {
            var reason = Validate(record, header.Fields.Length, ordinals, out var encounterId, out var patientNbr);
            if (reason is null && !firstLineOfEncounter.TryAdd(encounterId, record.LineNumber))
            {
                reason = $"duplicate encounter_id {encounterId} (first on line {firstLineOfEncounter[encounterId]})";
            }

            if (reason is not null)
            {
                rejected.Add(new RejectedRow(record.LineNumber, reason, Truncate(Join(record.Fields))));
                continue;
            }

            var fields = new string[ordinals.Length];
            for (var i = 0; i < ordinals.Length; i++)
            {
                fields[i] = record.Fields[ordinals[i]];
            }

            rows.Add(new SourceRow(record.LineNumber, encounterId, patientNbr, SplitRule.Assign(patientNbr), fields));
        }

        if (rows.Count == 0)
        {
            throw IngestProblemException.UnusableSource(
                $"{entryName} has a header but no usable rows ({rejected.Count} rejected{(rejected.Count > 0 ? $"; line {rejected[0].LineNumber}: {rejected[0].Reason}" : "")}).");
        }

        return new ParsedSource(entryName, rows, rejected);
    }

    /// <summary>For each schema column, its position in the file; every column must be there exactly once.</summary>
    private static int[] MapHeader(string[] header, string entryName)
    {
        var positions = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, index) in header.Select((name, index) => (name.Trim().TrimStart('\uFEFF'), index)))
        {
            if (!positions.TryAdd(name, index) && EncounterSchema.Columns.Any(c => c.SourceName.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                throw IngestProblemException.UnusableSource($"{entryName} has the column '{name}' twice.");
            }
        }

        var missing = EncounterSchema.Columns.Where(c => !positions.ContainsKey(c.SourceName)).Select(c => c.SourceName).ToArray();
        if (missing.Length > 0)
        {
            throw IngestProblemException.UnusableSource(
                $"{entryName} lacks {missing.Length} of the dataset's {EncounterSchema.Columns.Count} columns: {string.Join(", ", missing)}.");
        }

        return EncounterSchema.Columns.Select(c => positions[c.SourceName]).ToArray();
    }

    private static string? Validate(CsvRecord record, int expectedFields, int[] ordinals, out long encounterId, out long patientNbr)
    {
        encounterId = patientNbr = 0;
        if (record.Problem is not null)
        {
            return record.Problem;
        }

        if (record.Fields.Length != expectedFields)
        {
            return $"expected {expectedFields} fields, found {record.Fields.Length}";
        }

        return ParseId(record.Fields[ordinals[EncounterSchema.EncounterId.Ordinal]], EncounterSchema.EncounterId, out encounterId)
            ?? ParseId(record.Fields[ordinals[EncounterSchema.PatientNbr.Ordinal]], EncounterSchema.PatientNbr, out patientNbr);
    }

    private static string? ParseId(string value, EncounterColumn column, out long id) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0
            ? null
            : $"{column.SourceName} '{value}' is not a positive whole number";

    private static string Join(string[] fields) =>
        string.Join(',', fields.Select(f => f.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{f.Replace("\"", "\"\"")}\"" : f));

    private static string Truncate(string content) =>
        content.Length <= MaxRejectedContent ? content : string.Concat(content.AsSpan(0, MaxRejectedContent), "…");
}
