namespace Diabetes.Core.Monitoring;

/// <summary>
/// The population stability index of observed counts against reference counts over the same bins:
/// PSI = Σ (actual − expected) × ln(actual / expected), over each side's shares. Every count gets half a row more
/// before the shares are taken (additive smoothing), so that an empty bin on either side keeps the index finite.
/// </summary>
public static class PopulationStability
{
    public const double Smoothing = 0.5;

    public const string Ok = "ok";
    public const string Warn = "warn";
    public const string Alert = "alert";
    public const string InsufficientData = "insufficient data";

    public static double Index(IReadOnlyList<long> expected, IReadOnlyList<long> actual)
    {
        if (expected.Count != actual.Count || expected.Count == 0)
        {
            throw new ArgumentException("Both sides need the same bins, at least one.");
        }

        var expectedTotal = expected.Sum() + Smoothing * expected.Count;
        var actualTotal = actual.Sum() + Smoothing * actual.Count;
        var index = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            var e = (expected[i] + Smoothing) / expectedTotal;
            var a = (actual[i] + Smoothing) / actualTotal;
            index += (a - e) * Math.Log(a / e);
        }

        return index;
    }

    /// <summary><c>ok</c> under <paramref name="warn"/>, <c>alert</c> over <paramref name="alert"/>, else <c>warn</c>.</summary>
    public static string Status(double index, double warn, double alert) =>
        index < warn ? Ok : index > alert ? Alert : Warn;
}
