using System.Buffers;
using System.Text;

namespace Diabetes.Core.Csv;

/// <summary>One record of a CSV file.</summary>
/// <param name="LineNumber">The 1-based physical line the record starts on (the header is line 1).</param>
/// <param name="Fields">The fields, unquoted.</param>
/// <param name="Problem">Why the record is malformed (an unterminated quote), or <c>null</c>.</param>
public sealed record CsvRecord(long LineNumber, string[] Fields, string? Problem);

/// <summary>
/// Reads RFC 4180 CSV: comma-separated, fields optionally in double quotes, <c>""</c> for a quote inside a
/// quoted field, line breaks inside quoted fields, CRLF or LF line ends. Line numbers count physical lines,
/// so a rejected record can be found in the file with any editor.
/// </summary>
/// <param name="reader">The text to read.</param>
/// <param name="createString">
/// Turns a field's characters into its string; a caller may hand back a shared instance for repeated values
/// (the dataset has 5 million fields and a few thousand distinct values).
/// </param>
public sealed class CsvRecordReader(TextReader reader, Func<ReadOnlySpan<char>, string>? createString = null)
{
    private const char Separator = ',';
    private const char Quote = '"';
    private static readonly SearchValues<char> FieldEnds = SearchValues.Create(",\r\n");

    private readonly Func<ReadOnlySpan<char>, string> _createString = createString ?? (span => span.ToString());
    private readonly char[] _buffer = new char[64 * 1024];
    private readonly StringBuilder _field = new();
    private readonly List<string> _fields = [];
    private int _position;
    private int _length;
    private long _line = 1;

    public CsvRecord? Read()
    {
        if (!EnsureData())
        {
            return null;
        }

        var startLine = _line;
        _fields.Clear();
        string? problem = null;

        while (true)
        {
            var (endOfRecord, fieldProblem) = ReadField();
            problem ??= fieldProblem;
            if (endOfRecord)
            {
                break;
            }
        }

        return new CsvRecord(startLine, [.. _fields], problem);
    }

    public IEnumerable<CsvRecord> ReadAll()
    {
        while (Read() is { } record)
        {
            yield return record;
        }
    }

    /// <summary>Reads one field; says whether it ended the record and what was wrong with it.</summary>
    private (bool EndOfRecord, string? Problem) ReadField()
    {
        _field.Clear();
        string? problem = null;

        if (EnsureData() && _buffer[_position] == Quote)
        {
            _position++;
            if (!ReadQuotedContent())
            {
                problem = "unterminated quoted field";
            }
        }

        // The unquoted part (or, after a closing quote, anything before the separator, kept as read).
        while (EnsureData())
        {
            var rest = _buffer.AsSpan(_position, _length - _position);
            var end = rest.IndexOfAny(FieldEnds);
            if (end < 0)
            {
                // The field goes on in the next buffer-full.
                _field.Append(rest);
                _position = _length;
                continue;
            }

            var value = _field.Length == 0 ? _createString(rest[..end]) : FinishField(rest[..end]);
            _fields.Add(value);
            _position += end + 1;
            switch (rest[end])
            {
                case Separator:
                    return (false, problem);
                case '\r':
                    if (EnsureData() && _buffer[_position] == '\n')
                    {
                        _position++;
                    }

                    break;
            }

            _line++;
            return (true, problem);
        }

        _fields.Add(_createString(_field.ToString()));
        return (true, problem);
    }

    private string FinishField(ReadOnlySpan<char> tail)
    {
        _field.Append(tail);
        return _createString(_field.ToString());
    }

    /// <summary>Reads up to the closing quote; false when the input ends first.</summary>
    private bool ReadQuotedContent()
    {
        while (EnsureData())
        {
            var c = _buffer[_position++];
            if (c == Quote)
            {
                if (EnsureData() && _buffer[_position] == Quote)
                {
                    _field.Append(Quote);
                    _position++;
                    continue;
                }

                return true;
            }

            if (c == '\n')
            {
                _line++;
            }

            _field.Append(c);
        }

        return false;
    }

    private bool EnsureData()
    {
        if (_position < _length)
        {
            return true;
        }

        _length = reader.Read(_buffer, 0, _buffer.Length);
        _position = 0;
        return _length > 0;
    }
}
