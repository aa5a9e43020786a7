using System.Globalization;
using System.Text.Json;
using Diabetes.Core.Modeling;

namespace Diabetes.Core.Monitoring;

/// <summary>
/// One bin of a distribution: a category (or <see cref="ReferenceProfile.OtherCategory"/>), or numbers below
/// <see cref="Below"/> (the last bin has none) and at or above the previous bin's bound; how many reference rows fell in it.
/// </summary>
public sealed record ProfileBin(string Label, string? Category, double? Below, long Count);

/// <summary>The reference distribution of one model input (<see cref="MonitoredInput"/>): its bins and rows.</summary>
public sealed record InputProfile(string Input, string Field, string Kind, IReadOnlyList<ProfileBin> Bins, long Rows)
{
    public const string Numeric = "numeric";
    public const string Categorical = "categorical";

    /// <summary>The bin a value falls in: a number by its bounds, a category by name, else the last bin (rare or unseen).</summary>
    public int BinOf(float number)
    {
        for (var i = 0; i < Bins.Count - 1; i++)
        {
            if (number < Bins[i].Below)
            {
                return i;
            }
        }

        return Bins.Count - 1;
    }

    public int BinOf(string category)
    {
        for (var i = 0; i < Bins.Count; i++)
        {
            if (Bins[i].Category == category)
            {
                return i;
            }
        }

        return Bins.Count - 1;
    }
}

/// <summary>
/// The model's score for its reference population, the validation split: the learner's mean raw score there (the units
/// of a prediction's contributions, see <see cref="ReadmissionScorer.Explain"/>) and its mean probability.
/// </summary>
public sealed record ScoreBaseline(double Score, double Probability, long Rows)
{
    public static ScoreBaseline? Of(IReadOnlyCollection<ModelOutput> validation) => validation.Count == 0
        ? null
        : new(validation.Average(o => (double)o.Score), validation.Average(o => (double)o.Probability), validation.Count);
}

/// <summary>
/// <c>reference_profile.json</c> of a model folder: what the model was trained on, to compare the requests it gets with.
/// For each model input the training split's distribution (numbers in quantile bins, categories by frequency with an
/// <see cref="OtherCategory"/> bin for the rare and the unseen), and the distribution of the model's own probabilities on validation with
/// the share it predicted positive there; and its <see cref="ScoreBaseline"/> (none in profiles written before baselines).
/// </summary>
public sealed record ReferenceProfile(IReadOnlyList<InputProfile> Inputs, InputProfile Score, double PositiveRate, ScoreBaseline? Baseline = null)
{
    public const string FileName = "reference_profile.json";
    /// <summary>The label of the bin of rare and unseen categories (not "other", which is an ICD-9 group of its own).</summary>
    public const string OtherCategory = "(rare or unseen)";

    /// <summary>Quantile bins of a number: ten, fewer when values repeat (most inputs are small counts).</summary>
    public const int NumericBins = 10;

    /// <summary>A category keeps a bin of its own when it holds at least this share of the rows; at most <see cref="MaxCategoryBins"/>.</summary>
    public const double MinimumCategoryShare = 0.005;
    public const int MaxCategoryBins = 30;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The training split's distribution of every model input.</summary>
    public static IReadOnlyList<InputProfile> ProfileInputs(IReadOnlyList<ModelInput> training) =>
        MonitoredInput.All.Select(input => input.Number is { } number
            ? NumericProfile(input.Input, input.Field, training.Select(number).ToArray())
            : CategoricalProfile(input.Input, input.Field, training.Select(input.Category!))).ToArray();

    /// <summary>The profile of a model: the training split's inputs, and its probabilities on validation at its threshold.</summary>
    public static ReferenceProfile Create(IReadOnlyList<InputProfile> inputs, IReadOnlyList<float> validationProbabilities, double threshold) =>
        new(inputs, NumericProfile("Score", "probability", validationProbabilities.ToArray()),
            validationProbabilities.Count == 0 ? 0 : validationProbabilities.Count(p => p >= threshold) / (double)validationProbabilities.Count);

    public static InputProfile NumericProfile(string input, string field, float[] values)
    {
        Array.Sort(values);
        var bounds = new SortedSet<double>();
        for (var i = 1; i < NumericBins && values.Length > 0; i++)
        {
            var bound = values[(int)((long)i * values.Length / NumericBins)];
            // A bound at the smallest value would leave the first bin empty.
            if (bound > values[0])
            {
                bounds.Add(bound);
            }
        }

        // Ninety per cent or more at the smallest value (most visits counts are zero): the bin of that value alone.
        if (bounds.Count == 0 && values.Length > 0 && values[^1] > values[0])
        {
            bounds.Add(values.First(v => v > values[0]));
        }

        var below = bounds.ToArray();
        var counts = new long[below.Length + 1];
        var bin = 0;
        foreach (var value in values)
        {
            while (bin < below.Length && value >= below[bin])
            {
                bin++;
            }

            counts[bin]++;
        }

        var bins = counts.Select((count, i) => new ProfileBin(
            NumericLabel(i > 0 ? below[i - 1] : null, i < below.Length ? below[i] : null), null, i < below.Length ? below[i] : null, count));
        return new InputProfile(input, field, InputProfile.Numeric, bins.ToArray(), values.Length);
    }

    public static InputProfile CategoricalProfile(string input, string field, IEnumerable<string> values)
    {
        var counts = values.CountBy(value => value, StringComparer.Ordinal).ToArray();
        var rows = counts.Sum(c => (long)c.Value);
        var kept = counts.Where(c => c.Value >= MinimumCategoryShare * rows)
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(MaxCategoryBins).ToArray();
        var bins = kept.Select(c => new ProfileBin(c.Key, c.Key, null, c.Value)).ToList();
        bins.Add(new ProfileBin(OtherCategory, null, null, rows - kept.Sum(c => (long)c.Value)));
        return new InputProfile(input, field, InputProfile.Categorical, bins, rows);
    }

    /// <summary>
    /// The bin of each of <see cref="Inputs"/> a prediction's input falls in, in their order; -1 for an input this code
    /// no longer has (a profile written by another version of it).
    /// </summary>
    public int[] BinsOf(ModelInput input)
    {
        var bins = new int[Inputs.Count];
        for (var i = 0; i < bins.Length; i++)
        {
            var profile = Inputs[i];
            bins[i] = MonitoredInput.ByInput.TryGetValue(profile.Input, out var monitored)
                ? monitored.Number is { } number ? profile.BinOf(number(input)) : profile.BinOf(monitored.Category!(input))
                : -1;
        }

        return bins;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Reads a profile, and refuses one that drift could not use (no inputs, an input without bins, bounds out of order).</summary>
    public static ReferenceProfile Parse(byte[] json)
    {
        var profile = JsonSerializer.Deserialize<ReferenceProfile>(json, JsonOptions) ?? throw new JsonException($"{FileName} is empty.");
        if (profile.Inputs is not { Count: > 0 } inputs || profile.Score is null)
        {
            throw new JsonException($"{FileName} has no inputs or no score.");
        }

        foreach (var input in inputs.Append(profile.Score))
        {
            if (input?.Input is null || input.Bins is not { Count: > 0 } bins || bins.Any(b => b is null || b.Count < 0))
            {
                throw new JsonException($"{FileName}: input {input?.Input ?? "(unnamed)"} has no bins, or a bin without a count.");
            }

            var bounds = bins.Take(bins.Count - 1).Select(b => b.Below).ToArray();
            if (input.Kind == InputProfile.Numeric && (bounds.Any(b => b is null) || bounds.Zip(bounds.Skip(1)).Any(p => p.First >= p.Second)))
            {
                throw new JsonException($"{FileName}: the bounds of {input.Input} are not in ascending order.");
            }
        }

        return profile;
    }

    private static string NumericLabel(double? from, double? below) => (from, below) switch
    {
        (null, { } b) => $"< {Number(b)}",
        ({ } f, null) => $">= {Number(f)}",
        ({ } f, { } b) => $"{Number(f)} to < {Number(b)}",
        _ => "all",
    };

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
