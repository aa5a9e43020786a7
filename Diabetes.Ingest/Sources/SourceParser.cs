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

/// <summary>
/// Reads <c>diabetic_data.csv</c> from a zip archive or a bare CSV file. Structural faults of a line (field
/// count, quoting, ids) reject that line with its reason; a file that is not the dataset at all is refused whole.
/// </summary>
public static class SourceParser
{
    public const string DataFileName = "diabetic_data.csv";
    private static readonly byte[] ZipSignature = "PK\u0003\u0004"u8.ToArray();

    /// <summary>
    /// Opens the source and reads its header: a file without the dataset's columns is refused here, one without a
    /// usable row at the end of <see cref="SourceReader.Rows"/>.
    /// </summary>
    public static SourceReader Open(string path)
    {
        var file = File.OpenRead(path);
        try
        {
            if (file.Length == 0)
            {
                throw IngestProblemException.UnusableSource("The source file is empty.");
            }

            Span<byte> signature = stackalloc byte[ZipSignature.Length];
            var read = file.ReadAtLeast(signature, signature.Length, throwOnEndOfStream: false);
            file.Position = 0;
            if (read == ZipSignature.Length && signature.SequenceEqual(ZipSignature))
            {
                var archive = OpenArchive(file);
                try
                {
                    var entry = FindDataEntry(archive);
                    return new SourceReader(entry.Open(), entry.FullName, [archive, file]);
                }
                catch
                {
                    archive.Dispose();
                    throw;
                }
            }

            return new SourceReader(file, Path.GetFileName(path), []);
        }
        catch
        {
            file.Dispose();
            throw;
        }
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
}

/// <summary>
/// One pass over a source file, row by row: nothing of a usable row is kept once it is handed on, only what the
/// duplicate check needs (<see cref="EncounterFirstLines"/>) and the rejected lines.
/// </summary>
public sealed class SourceReader : IDisposable
{
    private const int MaxRejectedContent = 1_000;

    private readonly StreamReader _text;
    private readonly CsvRecordReader _records;
    private readonly IDisposable[] _owned;
    private readonly string[] _header;
    private readonly int[] _ordinals;
    private readonly List<RejectedRow> _rejected = [];

    internal SourceReader(Stream csv, string csvEntry, IDisposable[] owned)
    {
        _owned = owned;
        _text = new StreamReader(csv, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
        try
        {
            CsvEntry = csvEntry;
            _records = new CsvRecordReader(_text, new StringPool().Get);
            _header = (_records.Read() ?? throw IngestProblemException.UnusableSource($"{csvEntry} is empty.")).Fields;
            _ordinals = MapHeader(_header, csvEntry);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The data file's name: the archive entry, or the file itself.</summary>
    public string CsvEntry { get; }

    /// <summary>The lines rejected so far, in file order.</summary>
    public IReadOnlyList<RejectedRow> Rejected => _rejected;

    /// <summary>The usable rows handed out so far.</summary>
    public int UsableRows { get; private set; }

    /// <summary>The usable rows in file order, to be read once; the rejected lines are collected on the way.</summary>
    public IEnumerable<SourceRow> Rows()
    {
        var firstLines = new EncounterFirstLines();
        while (_records.Read() is { } record)
        {
            var reason = Validate(record, out var encounterId, out var patientNbr);
            if (reason is null && !firstLines.TryAdd(encounterId, record.LineNumber, out var firstLine))
            {
                reason = $"duplicate encounter_id {encounterId} (first on line {firstLine})";
            }

            if (reason is not null)
            {
                _rejected.Add(new RejectedRow(record.LineNumber, reason, Truncate(Join(record.Fields))));
                continue;
            }

            var fields = new string[_ordinals.Length];
            for (var i = 0; i < _ordinals.Length; i++)
            {
                fields[i] = record.Fields[_ordinals[i]];
            }

            UsableRows++;
            yield return new SourceRow(record.LineNumber, encounterId, patientNbr, SplitRule.Assign(patientNbr), fields);
        }

        if (UsableRows == 0)
        {
            throw IngestProblemException.UnusableSource(
                $"{CsvEntry} has a header but no usable rows ({_rejected.Count} rejected{(_rejected.Count > 0 ? $"; line {_rejected[0].LineNumber}: {_rejected[0].Reason}" : "")}).");
        }
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

    private string? Validate(CsvRecord record, out long encounterId, out long patientNbr)
    {
        encounterId = patientNbr = 0;
        if (record.Problem is not null)
        {
            return record.Problem;
        }

        if (record.Fields.Length != _header.Length)
        {
            return $"expected {_header.Length} fields, found {record.Fields.Length}";
        }

        return ParseId(record.Fields[_ordinals[EncounterSchema.EncounterId.Ordinal]], EncounterSchema.EncounterId, out encounterId)
            ?? ParseId(record.Fields[_ordinals[EncounterSchema.PatientNbr.Ordinal]], EncounterSchema.PatientNbr, out patientNbr);
    }

    private static string? ParseId(string value, EncounterColumn column, out long id) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0
            ? null
            : $"{column.SourceName} '{value}' is not a positive whole number";

    private static string Join(string[] fields) =>
        string.Join(',', fields.Select(f => f.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{f.Replace("\"", "\"\"")}\"" : f));

    private static string Truncate(string content) =>
        content.Length <= MaxRejectedContent ? content : string.Concat(content.AsSpan(0, MaxRejectedContent), "…");

    public void Dispose()
    {
        _text.Dispose();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
