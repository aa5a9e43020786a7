using System.Globalization;
using System.Text.RegularExpressions;

namespace Diabetes.Core.Cleaning;

/// <summary>
/// Groups ICD-9 diagnosis codes as Strack et al. (2014) did for this dataset: circulatory 390–459 and 785,
/// respiratory 460–519 and 786, digestive 520–579 and 787, diabetes 250.xx, injury 800–999, musculoskeletal
/// 710–739, genitourinary 580–629 and 788, neoplasms 140–239, everything else (including V and E codes) other.
/// Hundreds of distinct codes become nine groups a model can learn from with 70,000 rows.
/// </summary>
public static partial class Icd9
{
    public const string Circulatory = "circulatory";
    public const string Respiratory = "respiratory";
    public const string Digestive = "digestive";
    public const string Diabetes = "diabetes";
    public const string Injury = "injury";
    public const string Musculoskeletal = "musculoskeletal";
    public const string Genitourinary = "genitourinary";
    public const string Neoplasms = "neoplasms";
    public const string Other = "other";
    public const string Missing = "missing";

    public static readonly IReadOnlyList<string> Groups =
        [Circulatory, Respiratory, Digestive, Diabetes, Injury, Musculoskeletal, Genitourinary, Neoplasms, Other, Missing];

    /// <summary>A numeric code (<c>250.83</c>, <c>8</c>), a V code (<c>V57</c>) or an E code (<c>E909</c>).</summary>
    // [0-9], not \d: \d also matches other scripts' digits, which decimal.Parse refuses.
    [GeneratedRegex(@"^(?:[0-9]{1,3}(?:\.[0-9]{1,2})?|V[0-9]{1,2}(?:\.[0-9]{1,2})?|E[0-9]{3}(?:\.[0-9])?)$", RegexOptions.CultureInvariant)]
    public static partial Regex CodePattern();

    public static bool IsValidCode(string code) => CodePattern().IsMatch(code);

    /// <summary>The group of a code; <see cref="Missing"/> for none. The code must be valid.</summary>
    public static string Group(string? code)
    {
        if (code is null)
        {
            return Missing;
        }

        if (code[0] is 'V' or 'E')
        {
            return Other;
        }

        var value = decimal.Parse(code, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return value switch
        {
            >= 390 and < 460 or >= 785 and < 786 => Circulatory,
            >= 460 and < 520 or >= 786 and < 787 => Respiratory,
            >= 520 and < 580 or >= 787 and < 788 => Digestive,
            >= 250 and < 251 => Diabetes,
            >= 800 and < 1000 => Injury,
            >= 710 and < 740 => Musculoskeletal,
            >= 580 and < 630 or >= 788 and < 789 => Genitourinary,
            >= 140 and < 240 => Neoplasms,
            _ => Other,
        };
    }
}
