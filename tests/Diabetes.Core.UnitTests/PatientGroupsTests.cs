using System.Text;
using System.Text.Json;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;

namespace Diabetes.Core.UnitTests;

public class PatientGroupsTests
{
    private const double Threshold = 0.5;
    private const double Z975 = 1.959963984540054;

    /// <summary>
    /// A small table of four kinds of encounter, each row a count of alike rows with one probability:
    /// A: Female, Caucasian, [70-80) — 30 readmitted at 0.8, 20 not at 0.2, 10 not at 0.9;
    /// B: Male, AfricanAmerican, [50-60) — 29 readmitted at 0.6, 40 not at 0.3;
    /// C: Male, race unknown, [40-50) — 1 readmitted at 0.1, 1 not at 0.7;
    /// D: gender unknown, Hispanic, [40-50) — 30 readmitted at 0.5, 5 not at 0.4.
    /// </summary>
    private static readonly (string Race, string Gender, float Age, bool Label, float Probability, int Count)[] Table =
    [
        ("Caucasian", "Female", 75, true, 0.8f, 30),
        ("Caucasian", "Female", 75, false, 0.2f, 20),
        ("Caucasian", "Female", 75, false, 0.9f, 10),
        ("AfricanAmerican", "Male", 55, true, 0.6f, 29),
        ("AfricanAmerican", "Male", 55, false, 0.3f, 40),
        (ModelInput.MissingCategory, "Male", 45, true, 0.1f, 1),
        (ModelInput.MissingCategory, "Male", 45, false, 0.7f, 1),
        ("Hispanic", ModelInput.MissingCategory, 45, true, 0.5f, 30),
        ("Hispanic", ModelInput.MissingCategory, 45, false, 0.4f, 5),
    ];

    [Fact]
    public void MeasuresEveryGroupAsWorkedOutByHand()
    {
        // Arrange
        var rows = Table.SelectMany(kind => Enumerable.Repeat(kind, kind.Count)).ToArray();
        var inputs = rows.Select(r => new ModelInput { Race = r.Race, Gender = r.Gender, AgeYears = r.Age, Label = r.Label }).ToArray();
        var probabilities = rows.Select(r => r.Probability).ToArray();

        // Act
        var groups = PatientGroups.Measure(inputs, probabilities, Threshold).ToDictionary(g => g.Key);

        // Assert: the twelve groups, in order, each counted
        Assert.Equal(
            ["race.Caucasian", "race.AfricanAmerican", "race.Hispanic", "race.Asian", "race.Other", "race.Unknown",
             "gender.Female", "gender.Male", "gender.Unknown_Invalid", "age.under_50", "age.50-69", "age.70_and_over"],
            groups.Keys);
        Assert.Equal(
            [(60, 30), (69, 29), (35, 30), (0, 0), (0, 0), (2, 1), (60, 30), (71, 30), (35, 30), (37, 31), (69, 29), (60, 30)],
            groups.Values.Select(g => (g.Rows, g.Positives)));

        // Too small: 29 readmitted (AfricanAmerican, 50-69), 5 or 6 not readmitted (Hispanic, gender unknown, under 50), none at all
        Assert.Equal(["race.Caucasian", "gender.Female", "gender.Male", "age.70_and_over"], groups.Values.Where(g => !g.TooSmall).Select(g => g.Key));
        Assert.All(groups.Values.Where(g => g.TooSmall), g => Assert.Equal((null, null, null, null),
            (g.RocAuc, g.PredictedPositiveRate, g.TruePositiveRate, g.FalsePositiveRate)));
        Assert.Empty(groups["race.AfricanAmerican"].Metrics());

        // A alone (Caucasian, Female, 70 and over): every positive (0.8) outranks the 20 negatives at 0.2 and not the 10 at
        // 0.9, so ROC-AUC = 20/30. The positives' placements are all 2/3 (no variance); the negatives' are 1 (20 of them)
        // and 0 (10), whose sample variance is (20·(1/3)² + 10·(2/3)²)/29 = 20/87; the area's variance is (20/87)/30 = 2/261.
        // At 0.5: 30 + 10 predicted positive of 60, every positive caught, 10 of 30 negatives flagged.
        foreach (var key in new[] { "race.Caucasian", "gender.Female", "age.70_and_over" })
        {
            var a = groups[key];
            AssertInterval(2.0 / 3, Math.Sqrt(2.0 / 261), a.RocAuc!.Value);
            Assert.Equal((2.0 / 3, 1.0, 1.0 / 3), (a.PredictedPositiveRate!.Value, a.TruePositiveRate!.Value, a.FalsePositiveRate!.Value));
        }

        // B and C (Male): 30 readmitted, 41 not. The 29 positives at 0.6 outrank the 40 negatives at 0.3, nothing else
        // outranks anything: ROC-AUC = 29·40/(30·41) = 116/123. Placements: positives 40/41 (29) and 0 (1); negatives
        // 29/30 (40) and 0 (1). At 0.5: the 29 positives at 0.6 and the negative at 0.7 are flagged.
        var male = groups["gender.Male"];
        var variance = SampleVariance((40.0 / 41, 29), (0, 1)) / 30 + SampleVariance((29.0 / 30, 40), (0, 1)) / 41;
        AssertInterval(116.0 / 123, Math.Sqrt(variance), male.RocAuc!.Value);
        Assert.Equal(1.0, male.RocAuc.Value.High);
        Assert.Equal((30.0 / 71, 29.0 / 30, 1.0 / 41), (male.PredictedPositiveRate!.Value, male.TruePositiveRate!.Value, male.FalsePositiveRate!.Value));

        // As MLflow metrics, under names it accepts
        Assert.Equal(
            ["roc_auc.gender.Male", "roc_auc_low.gender.Male", "roc_auc_high.gender.Male", "predicted_positive_rate.gender.Male", "tpr.gender.Male", "fpr.gender.Male"],
            male.Metrics().Keys);
        Assert.Equal(116.0 / 123, male.Metrics()["roc_auc.gender.Male"], 12);
    }

    [Theory]
    [InlineData("Asian", "Female", 5, "Asian", "Female", "under 50")]
    [InlineData("?", "Male", 45, "Unknown", "Male", "under 50")]
    [InlineData("Martian", ModelInput.MissingCategory, 55, "Other", "Unknown/Invalid", "50-69")]
    [InlineData("Other", "Female", 65, "Other", "Female", "50-69")]
    [InlineData("Caucasian", "Male", 75, "Caucasian", "Male", "70 and over")]
    [InlineData("Hispanic", "Female", 95, "Hispanic", "Female", "70 and over")]
    public void PutsAnEncounterInOneGroupOfEachAttribute(string race, string gender, float age, string raceGroup, string genderGroup, string ageBand)
    {
        var input = new ModelInput { Race = race == "?" ? ModelInput.MissingCategory : race, Gender = gender, AgeYears = age };

        Assert.Equal((raceGroup, genderGroup, ageBand), (PatientGroups.RaceOf(input), PatientGroups.GenderOf(input), PatientGroups.AgeBandOf(input)));
    }

    [Fact]
    public void SlicesRoundTripThroughTheirJsonFile()
    {
        // Arrange: 40 readmitted and 40 not among Caucasian women of 70 and over, every other group empty
        var inputs = Enumerable.Range(0, 80).Select(i => new ModelInput { Race = "Caucasian", Gender = "Female", AgeYears = 75, Label = i < 40 }).ToArray();
        var probabilities = Enumerable.Range(0, 80).Select(i => (float)((i * 37 % 80) / 80.0)).ToArray();
        var slices = new ModelSlices(Threshold, PatientGroups.MinimumPerClass,
            [SplitSlices.Measure(DatasetSplit.Validation, inputs, probabilities, Threshold)]);

        // Act
        var json = slices.ToJson();
        var parsed = ModelSlices.Parse(json);

        // Assert: the documented names, and the same figures back
        using var document = JsonDocument.Parse(json);
        var split = document.RootElement.GetProperty("splits")[0];
        Assert.Equal(("validation", 80, 40), (split.GetProperty("split").GetString(), split.GetProperty("rows").GetInt32(), split.GetProperty("positives").GetInt32()));
        var caucasian = split.GetProperty("groups")[0];
        Assert.Equal(["attribute", "group", "key", "rows", "positives", "too_small", "roc_auc", "predicted_positive_rate", "true_positive_rate", "false_positive_rate"],
            caucasian.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["value", "low", "high", "standard_error"], caucasian.GetProperty("roc_auc").EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, split.GetProperty("groups")[3].GetProperty("roc_auc").ValueKind);
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(parsed.ToJson()));
        Assert.Equal(slices.Of(DatasetSplit.Validation)!.Groups, parsed.Of(DatasetSplit.Validation)!.Groups);
        Assert.Null(parsed.Of(DatasetSplit.Test));
    }

    [Fact]
    public void ASlicesFileWrittenBeforeStandardErrorsReadsThemAsUnknown()
    {
        // Arrange: a group's interval as slices.json held it before it recorded the standard error
        var json = """
            {"threshold": 0.5, "minimum_per_class": 30, "splits": [{"split": "validation", "rows": 80, "positives": 40, "groups": [
              {"attribute": "race", "group": "Caucasian", "key": "race.Caucasian", "rows": 80, "positives": 40, "too_small": false,
               "roc_auc": {"value": 0.7, "low": 0.6, "high": 0.8}, "predicted_positive_rate": 0.5, "true_positive_rate": 0.6, "false_positive_rate": 0.4}]}]}
            """u8.ToArray();

        // Act
        var auc = ModelSlices.Parse(json).Splits[0].Groups[0].RocAuc!.Value;

        // Assert
        Assert.Equal((0.7, 0.6, 0.8), (auc.Value, auc.Low, auc.High));
        Assert.True(double.IsNaN(auc.StandardError));
    }

    private static void AssertInterval(double value, double standardError, RocAucInterval interval)
    {
        Assert.Equal(value, interval.Value, 12);
        Assert.Equal(Math.Max(0, value - Z975 * standardError), interval.Low, 12);
        Assert.Equal(Math.Min(1, value + Z975 * standardError), interval.High, 12);
        Assert.Equal(standardError, interval.StandardError, 12);
    }

    /// <summary>The sample variance of values given as (value, how many times).</summary>
    private static double SampleVariance(params (double Value, int Count)[] values)
    {
        var count = values.Sum(v => v.Count);
        var mean = values.Sum(v => v.Value * v.Count) / count;
        return values.Sum(v => v.Count * (v.Value - mean) * (v.Value - mean)) / (count - 1);
    }
}
