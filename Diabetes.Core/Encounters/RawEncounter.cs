namespace Diabetes.Core.Encounters;

/// <summary>
/// One encounter exactly as received: the 50 source fields as text, indexed by <see cref="EncounterColumn.Ordinal"/>.
/// A field may be <c>null</c> when a caller (a prediction request) leaves it out.
/// </summary>
public sealed class RawEncounter
{
    private readonly string?[] _values;

    public RawEncounter(string?[] values)
    {
        if (values.Length != EncounterSchema.Columns.Count)
        {
            throw new ArgumentException(
                $"An encounter has {EncounterSchema.Columns.Count} fields, not {values.Length}.", nameof(values));
        }

        _values = values;
    }

    public string? this[EncounterColumn column] => _values[column.Ordinal];

    public string? this[string sourceName] => _values[EncounterSchema.Get(sourceName).Ordinal];

    public IReadOnlyList<string?> Values => _values;
}
