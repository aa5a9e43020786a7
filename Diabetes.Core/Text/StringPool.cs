namespace Diabetes.Core.Text;

/// <summary>
/// Shares the string of a repeated value: the dataset's five million fields hold a few thousand distinct values
/// (<c>No</c> appears two million times), so sharing keeps a parsed or read dataset at tens of megabytes instead of
/// hundreds. Looked up by characters, so a repeated value read as a span costs no allocation. Capped, so a file of
/// unique values cannot grow it without end. Not thread-safe: one pool per read.
/// </summary>
public sealed class StringPool
{
    private const int Capacity = 100_000;
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    public string Get(ReadOnlySpan<char> value) => _lookup.TryGetValue(value, out var pooled) ? pooled : Keep(value.ToString());

    public string Get(string value) => _strings.TryGetValue(value, out var pooled) ? pooled : Keep(value);

    private string Keep(string text)
    {
        if (_strings.Count < Capacity)
        {
            _strings.Add(text);
        }

        return text;
    }
}
