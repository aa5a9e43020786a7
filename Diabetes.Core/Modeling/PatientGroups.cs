using System.Text.Json;
using System.Text.RegularExpressions;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;

namespace Diabetes.Core.Modeling;

/// <summary>
/// The groups of patients a model is judged on one by one, so that a model that wins on average cannot hide that it
/// fails some of them: race (the dataset's values, unknown as a group of its own), gender and age in three bands.
/// </summary>
public static partial class PatientGroups
{
    public const string Race = "race";
    public const string Gender = "gender";
    public const string Age = "age";

    /// <summary>Fewer readmitted, or fewer not readmitted, encounters than this in a group: too small to score.</summary>
    public const int MinimumPerClass = 30;

    /// <summary>The race of an encounter whose race the dataset leaves unknown (<c>?</c>).</summary>
    public const string UnknownRace = "Unknown";

    public static readonly IReadOnlyList<string> AgeBands = ["under 50", "50-69", "70 and over"];

    /// <summary>Every group, in the order of the tables and plots: the same twelve whatever the data holds.</summary>
    public static readonly IReadOnlyList<(string Attribute, string Group)> All =
    [
        .. EncounterDomain.Races.Append(UnknownRace).Select(race => (Race, race)),
        .. EncounterDomain.Genders.Select(gender => (Gender, gender)),
        .. AgeBands.Select(band => (Age, band)),
    ];

    /// <summary>The race group; a value the dataset does not have counts as <c>Other</c>, as the dataset itself would put it.</summary>
    public static string RaceOf(ModelInput input) =>
        input.Race == ModelInput.MissingCategory ? UnknownRace
        : EncounterDomain.Races.Contains(input.Race) ? input.Race
        : "Other";

    /// <summary>Female, Male, or the dataset's <c>Unknown/Invalid</c> for a gender cleaning left unknown.</summary>
    public static string GenderOf(ModelInput input) =>
        EncounterCleaner.GenderValues.Contains(input.Gender) ? input.Gender : EncounterCleaner.UnknownGender;

    /// <summary>The band of the age bracket's middle year (cleaning turns <c>[40-50)</c> into 45).</summary>
    public static string AgeBandOf(ModelInput input) => input.AgeYears switch
    {
        < 50 => AgeBands[0],
        < 70 => AgeBands[1],
        _ => AgeBands[2],
    };

    /// <summary>
    /// <c>attribute.group</c> with every character MLflow refuses in a metric name (it allows alphanumerics,
    /// underscores, dashes, periods, spaces and slashes) and the space and slash as well made an underscore:
    /// <c>race.AfricanAmerican</c>, <c>gender.Unknown_Invalid</c>, <c>age.70_and_over</c>.
    /// </summary>
    public static string Key(string attribute, string group) => $"{attribute}.{NotInKey().Replace(group, "_")}";

    /// <summary>
    /// The figures of every group (<see cref="All"/>) for probabilities predicted for <paramref name="inputs"/>, in
    /// their order, at the model's decision <paramref name="threshold"/> (a probability at or above it predicts readmission).
    /// </summary>
    public static IReadOnlyList<GroupMetrics> Measure(IReadOnlyList<ModelInput> inputs, IReadOnlyList<float> probabilities, double threshold)
    {
        if (inputs.Count != probabilities.Count)
        {
            throw new ArgumentException($"{inputs.Count} inputs but {probabilities.Count} probabilities.");
        }

        var members = All.ToDictionary(group => group, _ => new List<int>());
        for (var i = 0; i < inputs.Count; i++)
        {
            members[(Race, RaceOf(inputs[i]))].Add(i);
            members[(Gender, GenderOf(inputs[i]))].Add(i);
            members[(Age, AgeBandOf(inputs[i]))].Add(i);
        }

        return
        [
            .. All.Select(group => GroupMetrics.Score(group.Attribute, group.Group,
                [.. members[group].Select(i => probabilities[i])], [.. members[group].Select(i => inputs[i].Label)], threshold)),
        ];
    }

    [GeneratedRegex(@"[^A-Za-z0-9_.\-]")]
    private static partial Regex NotInKey();
}

/// <summary>
/// One group's figures on one split: its rows and readmitted rows, and, when both classes have at least
/// <see cref="PatientGroups.MinimumPerClass"/> rows, ROC-AUC with its 95 % interval (DeLong), the share predicted
/// positive and the true- and false-positive rates at the model's threshold; a smaller group is <see cref="TooSmall"/>
/// and has none of them.
/// </summary>
public sealed record GroupMetrics(
    string Attribute,
    string Group,
    string Key,
    int Rows,
    int Positives,
    bool TooSmall,
    RocAucInterval? RocAuc,
    double? PredictedPositiveRate,
    double? TruePositiveRate,
    double? FalsePositiveRate)
{
    public static GroupMetrics Score(string attribute, string group, IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, double threshold)
    {
        var key = PatientGroups.Key(attribute, group);
        var positives = labels.Count(l => l);
        var negatives = labels.Count - positives;
        if (positives < PatientGroups.MinimumPerClass || negatives < PatientGroups.MinimumPerClass)
        {
            return new GroupMetrics(attribute, group, key, labels.Count, positives, TooSmall: true, null, null, null, null);
        }

        var confusion = ConfusionMatrix.Of([.. probabilities.Select(p => p >= threshold)], labels);
        return new GroupMetrics(attribute, group, key, labels.Count, positives, TooSmall: false,
            BinaryMetrics.RocAucWithInterval(probabilities, labels),
            (double)(confusion.TruePositives + confusion.FalsePositives) / labels.Count,
            (double)confusion.TruePositives / positives,
            (double)confusion.FalsePositives / negatives);
    }

    /// <summary>
    /// The figures as MLflow metrics without the split's prefix (<c>roc_auc.race.Caucasian</c>, <c>tpr.age.50-69</c>, …);
    /// none for a group too small.
    /// </summary>
    public IReadOnlyDictionary<string, double> Metrics() => RocAuc is not { } auc
        ? new Dictionary<string, double>()
        : new Dictionary<string, double>
        {
            [$"roc_auc.{Key}"] = auc.Value,
            [$"roc_auc_low.{Key}"] = auc.Low,
            [$"roc_auc_high.{Key}"] = auc.High,
            [$"predicted_positive_rate.{Key}"] = PredictedPositiveRate!.Value,
            [$"tpr.{Key}"] = TruePositiveRate!.Value,
            [$"fpr.{Key}"] = FalsePositiveRate!.Value,
        };

    public override string ToString() => $"{Attribute} {Group}";
}

/// <summary>The groups of one split (<c>validation</c> or <c>test</c>), with the split's own rows and readmitted rows.</summary>
public sealed record SplitSlices(string Split, int Rows, int Positives, IReadOnlyList<GroupMetrics> Groups)
{
    public static SplitSlices Measure(DatasetSplit split, IReadOnlyList<ModelInput> inputs, IReadOnlyList<float> probabilities, double threshold) =>
        new(split.ToName(), inputs.Count, inputs.Count(i => i.Label), PatientGroups.Measure(inputs, probabilities, threshold));

    /// <summary>Every group's metrics (<see cref="GroupMetrics.Metrics"/>), without the split's prefix.</summary>
    public IReadOnlyDictionary<string, double> Metrics() =>
        Groups.SelectMany(g => g.Metrics()).ToDictionary(m => m.Key, m => m.Value);
}

/// <summary>
/// <c>slices.json</c> in the run of a job's chosen model: how it does for each group of patients on validation and on
/// test, at its decision threshold. Groups with fewer than <see cref="MinimumPerClass"/> rows of either class are
/// listed as too small, not scored.
/// </summary>
public sealed record ModelSlices(double Threshold, int MinimumPerClass, IReadOnlyList<SplitSlices> Splits)
{
    public const string FileName = "slices.json";

    public SplitSlices? Of(DatasetSplit split) => Splits.FirstOrDefault(s => s.Split == split.ToName());

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ModelArtifacts.JsonOptions);

    public static ModelSlices Parse(byte[] json) =>
        JsonSerializer.Deserialize<ModelSlices>(json, ModelArtifacts.JsonOptions) ?? throw new JsonException($"{FileName} is empty.");
}
