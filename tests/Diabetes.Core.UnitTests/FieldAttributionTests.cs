using System.Globalization;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
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
        var byField = Sum([0.5f, -0.25f, 0.125f, 1f, 2f, 0, 0, 0], Taking());

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
        var input = Taking();
        (input.NumberOutpatient, input.NumberInpatient, input.TotalPriorVisits) = (1, 3, 4);

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
        var input = Taking((EncounterCleaner.KeptMedications[0], "Steady"), (EncounterCleaner.KeptMedications[5], "Up"));

        // Act
        var byField = Sum([0, 0, 0, 0, 0, 0, -0.3f, 1f], input);

        // Assert
        Assert.All(new[] { "number_outpatient", "number_emergency", "number_inpatient" }, field => Assert.Equal(-0.1, byField[field], 1e-7));
        Assert.Equal(0.5, byField[EncounterCleaner.KeptMedications[0]]);
        Assert.Equal(0.5, byField[EncounterCleaner.KeptMedications[5]]);
        Assert.Equal(0, byField[EncounterCleaner.KeptMedications[1]]);
    }

    [Fact]
    public void AMedicationTheModelDoesNotReadGetsItsShareOfTheCountsAsTheCleanerCountsIt()
    {
        // Arrange: examide (dropped from CLEAN DATA) Steady, insulin Up, both counted by the cleaner
        var input = Taking(("examide", "Steady"), ("insulin", "Up"));
        var attribution = FieldAttribution.Create([nameof(ModelInput.ActiveMedications), nameof(ModelInput.ChangedMedications)]);

        // Act
        var byField = attribution.Sum([1f, 0.5f], input).Select((contribution, field) => (attribution.Fields[field], contribution)).ToDictionary();

        // Assert: the fields are those the cleaner counts; examide gets half of the active medications, insulin the
        // other half and all of the changed ones; nothing lost
        Assert.Equal((2, 1), (input.ActiveMedications, input.ChangedMedications));
        Assert.Equal(EncounterCleaner.CountedMedications, attribution.Fields);
        Assert.Equal(0.5, byField["examide"]);
        Assert.Equal(0.5 + 0.5, byField["insulin"]);
        Assert.Equal(0, byField["citoglipton"]);
        Assert.Equal(1.5, byField.Values.Sum());
    }

    [Fact]
    public void AnEncounterWithoutItsCountedMedicationsIsRefused()
    {
        // Arrange: as read back from CLEAN DATA, which does not keep them
        var input = Taking();
        input.CountedMedications = [];

        // Act
        var refused = Assert.Throws<ArgumentException>(() => Attribution.Sum(new float[8], input));

        // Assert
        Assert.Contains("not the 23 its medication counts were made of", refused.Message);
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

    /// <summary>The typical encounter, cleaned as a request is, taking these medications.</summary>
    private static ModelInput Taking(params (string Medication, string Value)[] medications)
    {
        var values = new string?[EncounterSchema.Columns.Count];
        foreach (var (field, value) in TypicalEncounter.Fields)
        {
            values[EncounterSchema.Get(field).Ordinal] = Convert.ToString(value, CultureInfo.InvariantCulture);
        }

        foreach (var name in EncounterSchema.MedicationNames)
        {
            values[EncounterSchema.Get(name).Ordinal] = medications.FirstOrDefault(m => m.Medication == name).Value ?? "No";
        }

        var cleaned = Assert.IsType<CleaningResult.Cleaned>(EncounterCleaner.Clean(new RawEncounter(values), requireLabel: false));
        return ModelInput.FromClean(cleaned.Encounter);
    }

    private static Dictionary<string, double> Sum(float[] slots, ModelInput input) =>
        Attribution.Sum(slots, input).Select((contribution, field) => (Attribution.Fields[field], contribution)).ToDictionary();
}
