using Diabetes.Core.Cleaning;
using Diabetes.Core.Modeling;

namespace Diabetes.Core.UnitTests;

/// <summary>Contributions per slot add up per request field; an input that adds fields up is shared among them.</summary>
public class FieldAttributionTests
{
    private static readonly FieldAttribution Attribution = FieldAttribution.Create(
        ["RaceOneHot.Caucasian", "RaceOneHot.AfricanAmerican", "Diag1GroupOneHot.circulatory", "Diag1CodeOneHot.250.83", "MedicationsOneHot.[2].Steady",
            nameof(ModelInput.NumberInpatient), nameof(ModelInput.TotalPriorVisits), nameof(ModelInput.ActiveMedications)]);

    [Fact]
    public void SlotsOfOneFieldAddUp()
    {
        // Act
        var byField = Sum([0.5f, -0.25f, 0.125f, 1f, 2f, 0, 0, 0], new ModelInput());

        // Assert: race's two slots, diag_1's group and code, the third kept medication
        Assert.Equal(0.25, byField["race"]);
        Assert.Equal(1.125, byField["diag_1"]);
        Assert.Equal(2, byField[EncounterCleaner.KeptMedications[2]]);
        Assert.Equal(3.375, byField.Values.Sum());
    }

    [Fact]
    public void PriorVisitsAreSharedByWhatEachKindAdds()
    {
        // Arrange: 1 outpatient, 0 emergency and 3 inpatient visits
        var input = new ModelInput { NumberOutpatient = 1, NumberInpatient = 3, TotalPriorVisits = 4 };

        // Act
        var byField = Sum([0, 0, 0, 0, 0, 0.5f, 2f, 0], input);

        // Assert
        Assert.Equal(0.5, byField["number_outpatient"]);
        Assert.Equal(0, byField["number_emergency"]);
        Assert.Equal(0.5 + 1.5, byField["number_inpatient"]);
    }

    [Fact]
    public void AZeroSumIsSharedEqually()
    {
        // Arrange: no prior visits; two of the medications taken
        var medications = EncounterCleaner.KeptMedications.Select(_ => "No").ToArray();
        medications[0] = "Steady";
        medications[5] = "Up";
        var input = new ModelInput { Medications = medications };

        // Act
        var byField = Sum([0, 0, 0, 0, 0, 0, -0.3f, 1f], input);

        // Assert
        Assert.All(new[] { "number_outpatient", "number_emergency", "number_inpatient" }, field => Assert.Equal(-0.1, byField[field], 1e-7));
        Assert.Equal(0.5, byField[EncounterCleaner.KeptMedications[0]]);
        Assert.Equal(0.5, byField[EncounterCleaner.KeptMedications[5]]);
        Assert.Equal(0, byField[EncounterCleaner.KeptMedications[1]]);
    }

    [Theory]
    [InlineData("Unknown")]
    [InlineData("RaceEncoded.Caucasian")]
    [InlineData("MedicationsOneHot.[21].No")]
    public void ASlotOfNoKnownInputIsRefused(string slot)
    {
        // Act
        var refused = Assert.Throws<ArgumentException>(() => FieldAttribution.Create(["AgeYears", slot]));

        // Assert
        Assert.Contains($"Slot 1 of the feature vector, '{slot}'", refused.Message);
    }

    private static Dictionary<string, double> Sum(float[] slots, ModelInput input) =>
        Attribution.Sum(slots, input).Select((contribution, field) => (Attribution.Fields[field], contribution)).ToDictionary();
}
