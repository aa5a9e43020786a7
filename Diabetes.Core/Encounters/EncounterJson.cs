using System.Text.Json;

namespace Diabetes.Core.Encounters;

/// <summary>How an encounter's values are read from JSON: by the inference API from a request, by the web page from an answer.</summary>
public static class EncounterJson
{
    /// <summary>
    /// The whole number a JSON number holds (<c>4</c>, and <c>4.0</c> as data tools write integer columns with gaps),
    /// or <c>null</c> for a fraction or a number beyond the range of an int.
    /// </summary>
    public static int? WholeNumber(JsonElement value)
    {
        if (value.TryGetInt32(out var number))
        {
            return number;
        }

        return value.TryGetDecimal(out var exact) && exact == decimal.Truncate(exact) && exact is >= int.MinValue and <= int.MaxValue
            ? (int)exact
            : null;
    }
}
