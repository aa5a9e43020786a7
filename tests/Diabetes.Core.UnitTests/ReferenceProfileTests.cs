using Diabetes.Core.Cleaning;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;

namespace Diabetes.Core.UnitTests;

public class PopulationStabilityTests
{
    [Fact]
    public void MatchesTheIndexWorkedOutByHand()
    {
        // Shares with half a row more in each bin: expected 50.5/101 = 0.5 twice; actual 90.5/101 = 0.89604 and
        // 10.5/101 = 0.10396. PSI = (0.89604 - 0.5) ln(0.89604 / 0.5) + (0.10396 - 0.5) ln(0.10396 / 0.5)
        //                         = 0.39604 × 0.58338 + (-0.39604) × (-1.57063) = 0.23104 + 0.62203 = 0.85306
        Assert.Equal(0.85306, PopulationStability.Index([50, 50], [90, 10]), 4);
    }

    [Fact]
    public void IsZeroForTheSameSharesAndFiniteForEmptyBins()
    {
        Assert.Equal(0, PopulationStability.Index([10, 30, 60], [100, 300, 600]), 2);
        // (100.5/101, 0.5/101) against (0.5/101, 100.5/101): 2 × (100/101) × ln(100.5/0.5) = 2 × 0.990099 × 5.303305 = 10.5016
        Assert.Equal(10.5016, PopulationStability.Index([100, 0], [0, 100]), 3);
    }

    [Theory]
    [InlineData(0.05, "ok")]
    [InlineData(0.1, "warn")]
    [InlineData(0.25, "warn")]
    [InlineData(0.26, "alert")]
    public void StatusFollowsTheThresholds(double index, string status) =>
        Assert.Equal(status, PopulationStability.Status(index, warn: 0.1, alert: 0.25));
}

public class ReferenceProfileTests
{
    [Fact]
    public void NumbersGetTenQuantileBinsWhenTheyAreDistinct()
    {
        var profile = ReferenceProfile.NumericProfile("X", "x", Enumerable.Range(1, 20).Select(v => (float)v).ToArray());

        Assert.Equal(["< 3", "3 to < 5", "5 to < 7", "7 to < 9", "9 to < 11", "11 to < 13", "13 to < 15", "15 to < 17", "17 to < 19", ">= 19"],
            profile.Bins.Select(b => b.Label));
        Assert.All(profile.Bins, bin => Assert.Equal(2, bin.Count));
        Assert.Equal((0, 0, 9), (profile.BinOf(-5), profile.BinOf(2.5f), profile.BinOf(100)));
        Assert.Equal(1, profile.BinOf(3));
    }

    [Fact]
    public void RepeatedNumbersGetFewerBinsAndNoneEmpty()
    {
        var profile = ReferenceProfile.NumericProfile("NumberInpatient", "number_inpatient", [0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);

        Assert.Equal([("< 1", 7L), ("1 to < 2", 2L), (">= 2", 1L)], profile.Bins.Select(b => (b.Label, b.Count)));
        Assert.Equal(10, profile.Rows);
    }

    [Fact]
    public void ANumberAlmostAlwaysAtItsSmallestValueKeepsThatValueInABinOfItsOwn()
    {
        // 95 % zeros: every decile is 0, yet a visit more must still show
        float[] values = [.. Enumerable.Repeat(0f, 95), 1, 1, 2, 3, 5];

        var profile = ReferenceProfile.NumericProfile("NumberEmergency", "number_emergency", values);

        Assert.Equal([("< 1", 95L), (">= 1", 5L)], profile.Bins.Select(b => (b.Label, b.Count)));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"inputs\": null, \"score\": null}")]
    [InlineData("{\"inputs\": [{\"input\": \"AgeYears\", \"field\": \"age\", \"kind\": \"numeric\", \"bins\": [], \"rows\": 0}], \"score\": {\"input\": \"Score\", \"field\": \"probability\", \"kind\": \"numeric\", \"bins\": [{\"label\": \"all\", \"count\": 1}], \"rows\": 1}}")]
    [InlineData("{\"inputs\": [{\"input\": \"AgeYears\", \"field\": \"age\", \"kind\": \"numeric\", \"bins\": [{\"label\": \"a\", \"below\": 50, \"count\": 1}, {\"label\": \"b\", \"below\": 40, \"count\": 1}, {\"label\": \"c\", \"count\": 1}], \"rows\": 3}], \"score\": {\"input\": \"Score\", \"field\": \"probability\", \"kind\": \"numeric\", \"bins\": [{\"label\": \"all\", \"count\": 1}], \"rows\": 1}}")]
    public void AProfileDriftCouldNotUseIsRefusedWhenRead(string json) =>
        Assert.Throws<System.Text.Json.JsonException>(() => ReferenceProfile.Parse(System.Text.Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void RareAndUnseenCategoriesShareTheOtherBin()
    {
        string[] values = [.. Enumerable.Repeat("A", 700), .. Enumerable.Repeat("B", 296), .. Enumerable.Repeat("C", 3), "D"];

        var profile = ReferenceProfile.CategoricalProfile("Race", "race", values);

        Assert.Equal([("A", 700L), ("B", 296L), ("(rare or unseen)", 4L)], profile.Bins.Select(b => (b.Label, b.Count)));
        Assert.Equal((0, 1, 2, 2), (profile.BinOf("A"), profile.BinOf("B"), profile.BinOf("C"), profile.BinOf("never seen")));
    }

    [Fact]
    public void EveryModelInputIsProfiledOnceAndTheProfileReadsBack()
    {
        var inputs = Enumerable.Range(0, 50).Select(i => new ModelInput
        {
            Race = i % 3 == 0 ? "AfricanAmerican" : "Caucasian",
            AgeYears = 40 + i,
            NumMedications = i % 25,
            Medications = EncounterCleaner.KeptMedications.Select(_ => i % 2 == 0 ? "No" : "Steady").ToArray(),
        }).ToArray();

        var profile = ReferenceProfile.Create(ReferenceProfile.ProfileInputs(inputs), [0.1f, 0.2f, 0.6f, 0.9f], threshold: 0.5);
        var read = ReferenceProfile.Parse(profile.ToJson());

        string[] expected = [.. ModelInput.CategoricalColumns, .. EncounterCleaner.KeptMedications.Select(m => $"Medications[{m}]"), .. ModelInput.NumericColumns];
        Assert.Equal(expected.Order(), read.Inputs.Select(i => i.Input).Order());
        Assert.All(read.Inputs, input => Assert.Equal(50, input.Bins.Sum(b => b.Count)));
        Assert.Equal(0.5, read.PositiveRate);
        Assert.Equal(4, read.Score.Rows);
        Assert.Equal(profile.Inputs.SelectMany(i => i.Bins), read.Inputs.SelectMany(i => i.Bins));
    }
}
