using System.Globalization;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;

namespace Diabetes.Bench;

/// <summary>
/// A change made on purpose to one request field of every encounter the traffic tool sends, written
/// <c>field=change</c>, so that drift has something to find. What a change may be depends on the field:
/// <list type="bullet">
/// <item><c>age</c>: <c>+N</c> or <c>-N</c> brackets (<c>age=+2</c> makes <c>[50-60)</c> <c>[70-80)</c>), kept within
/// <c>[0-10)</c> to <c>[90-100)</c>;</item>
/// <item>a count (<c>num_medications</c>, <c>time_in_hospital</c>, ...): <c>xF</c> multiplies, <c>+N</c> or <c>-N</c>
/// adds, rounded to a whole number and kept within the dataset's range for it (<c>num_medications=x2</c>);</item>
/// <item>any field: a value it may take sets it (<c>A1Cresult=&gt;8</c>, <c>insulin=Up</c>, <c>admission_type_id=3</c>,
/// <c>diag_1=250.83</c>, <c>age=[80-90)</c>, <c>num_procedures=2</c>).</item>
/// </list>
/// A field the dataset leaves unknown in an encounter stays unknown under a relative change.
/// </summary>
public sealed class InputShift
{
    private readonly Func<string?, string?> _change;

    private InputShift(string field, string change, Func<string?, string?> apply)
    {
        Field = field;
        Change = change;
        _change = apply;
    }

    /// <summary>The request field changed: a column of the dataset.</summary>
    public string Field { get; }

    /// <summary>The change as written after <c>=</c>.</summary>
    public string Change { get; }

    public override string ToString() => $"{Field}={Change}";

    /// <summary>Reads <c>field=change</c>; a field that is not an input or a change it cannot take is a <see cref="FormatException"/> saying why.</summary>
    public static InputShift Parse(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1)
        {
            throw new FormatException($"'{text}' is not field=change (for example age=+2, num_medications=x2, A1Cresult=>8).");
        }

        var (name, change) = (text[..equals], text[(equals + 1)..]);
        if (EncounterSchema.Find(name) is not { Kind: not (ColumnKind.Identifier or ColumnKind.Label) } column)
        {
            throw new FormatException($"'{name}' is not a request field: the fields are the dataset's columns but encounter_id, patient_nbr and readmitted.");
        }

        return new InputShift(name, change, Relative(column, change) ?? Set(column, change));
    }

    /// <summary>The encounter with every shift applied, in order; the encounter itself is left as it is.</summary>
    public static RawEncounter Apply(IReadOnlyList<InputShift> shifts, RawEncounter encounter)
    {
        if (shifts.Count == 0)
        {
            return encounter;
        }

        var values = encounter.Values.ToArray();
        foreach (var shift in shifts)
        {
            var ordinal = EncounterSchema.Get(shift.Field).Ordinal;
            values[ordinal] = shift._change(values[ordinal]);
        }

        return new RawEncounter(values);
    }

    /// <summary>A move of brackets (<c>age</c>) or an arithmetic change (a count); null when the change is not one.</summary>
    private static Func<string?, string?>? Relative(EncounterColumn column, string change)
    {
        if (column.SourceName == "age" && change[0] is '+' or '-')
        {
            var steps = int.TryParse(change, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new FormatException($"age={change}: a move of brackets is +N or -N, for example age=+2.");
            var brackets = EncounterDomain.AgeBrackets;
            var positions = brackets.Index().ToDictionary(b => b.Item, b => b.Index, StringComparer.Ordinal);
            return value => Known(value) is { } bracket && positions.TryGetValue(bracket, out var index)
                ? brackets[Math.Clamp(index + steps, 0, brackets.Count - 1)]
                : value;
        }

        if (!EncounterDomain.CountRanges.TryGetValue(column.SourceName, out var range) || change[0] is not ('x' or '+' or '-'))
        {
            return null;
        }

        var operand = double.TryParse(change.AsSpan(change[0] == 'x' ? 1 : 0), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
            CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && (change[0] != 'x' || number >= 0)
            ? number
            : throw new FormatException($"{column.SourceName}={change}: a count changes by xF (F a number of 0 or more) or +N or -N, for example {column.SourceName}=x2.");
        Func<int, double> compute = change[0] == 'x' ? count => count * operand : count => count + operand;
        return value => int.TryParse(Known(value), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? Math.Clamp((int)Math.Round(compute(count), MidpointRounding.AwayFromZero), range.Min, range.Max).ToString(CultureInfo.InvariantCulture)
            : value;
    }

    /// <summary>A value the field may take, set in every encounter.</summary>
    private static Func<string?, string?> Set(EncounterColumn column, string value)
    {
        var field = column.SourceName;
        var allowed = column.Kind switch
        {
            ColumnKind.Diagnosis => Icd9.IsValidCode(value),
            _ when EncounterDomain.Categories(field) is { } categories => categories.Contains(value),
            _ when EncounterDomain.Codes(field) is { } codes => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && codes.ContainsKey(code),
            _ when EncounterDomain.CountRanges.TryGetValue(field, out var range) =>
                int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= range.Min && count <= range.Max,
            _ => false,
        };
        return allowed ? _ => value : throw new FormatException($"{field}={value}: {Expected(column)}.");
    }

    private static string Expected(EncounterColumn column)
    {
        var field = column.SourceName;
        var changes = column.Kind == ColumnKind.Diagnosis ? "an ICD-9 code such as 428, 250.83, V57 or E909"
            : EncounterDomain.Categories(field) is { } categories ? $"one of {string.Join(", ", categories)}"
            : EncounterDomain.Codes(field) is { } codes ? $"one of the codes {string.Join(", ", codes.Keys)}"
            : EncounterDomain.CountRanges.TryGetValue(field, out var range) ? $"xF, +N, -N or a whole number from {range.Min} to {range.Max}"
            : "no change is known for this field";
        return field == "age" ? $"+N or -N brackets, or {changes}" : changes;
    }

    private static string? Known(string? value) => EncounterCleaner.Missing(value);
}
