using Diabetes.Core.Cleaning;
using Diabetes.Core.Csv;
using Diabetes.Core.Data;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Testing;

namespace Diabetes.Core.UnitTests;

public class EncounterCleanerTests
{
    // The dataset's second encounter, as in diabetic_data.csv.
    private const string TypicalLine =
        "149190,55629189,Caucasian,Female,[10-20),?,1,1,7,3,?,?,59,0,18,0,0,0,276,250.01,255,9,None,None,No,No,No,No,No,No,No,No,No,No,No,No,No,No,No,No,No,Up,No,No,No,No,No,Ch,Yes,>30";

    private static RawEncounter Encounter(params (string Field, string? Value)[] changes)
    {
        var values = TypicalLine.Split(',').Select(v => (string?)v).ToArray();
        foreach (var (field, value) in changes)
        {
            values[EncounterSchema.Get(field).Ordinal] = value;
        }

        return new RawEncounter(values);
    }

    private static CleanEncounter Cleaned(RawEncounter raw, bool requireLabel = true) =>
        Assert.IsType<CleaningResult.Cleaned>(EncounterCleaner.Clean(raw, requireLabel)).Encounter;

    [Fact]
    public void KeepsATypicalEncounterWithItsEngineeredFeatures()
    {
        // Arrange
        var raw = Encounter(("number_outpatient", "2"), ("number_emergency", "1"), ("number_inpatient", "3"), ("metformin", "Steady"));

        // Act
        var clean = Cleaned(raw);

        // Assert
        Assert.Equal(15, clean.AgeYears);
        Assert.Equal(6, clean.TotalPriorVisits);
        Assert.Equal(2, clean.ActiveMedications);
        Assert.Equal(1, clean.ChangedMedications);
        Assert.Equal(Icd9.Other, clean.Diag1Group);
        Assert.Equal(Icd9.Diabetes, clean.Diag2Group);
        Assert.Equal(Icd9.Other, clean.Diag3Group);
        Assert.Equal("250.01", clean.Diag2);
        Assert.Equal(3, clean.TimeInHospital);
        Assert.Equal("Steady", clean.Medications[0]);
        Assert.Equal("Up", clean.Medications[EncounterCleaner.KeptMedications.ToList().IndexOf("insulin")]);
        Assert.Equal("Ch", clean.Change);
        Assert.False(clean.ReadmittedWithin30Days);
    }

    [Fact]
    public void TheModelReadsWholeDiagnosisCodesAndNamesWhatIsMissing()
    {
        // Arrange: the typical encounter's diagnoses are 276, 250.01 and 255; its payer and specialty are '?'
        var clean = Cleaned(Encounter(("diag_3", "?")));

        // Act
        var input = ModelInput.FromClean(clean);

        // Assert: 250.01 keeps its type and control digits
        Assert.Equal("276", input.Diag1Code);
        Assert.Equal("250.01", input.Diag2Code);
        Assert.Equal(ModelInput.MissingCategory, input.Diag3Code);
        Assert.Equal(Icd9.Diabetes, input.Diag2Group);
        Assert.Equal(ModelInput.MissingCategory, input.PayerCode);
        Assert.Equal(ModelInput.MissingCategory, input.MedicalSpecialty);
        Assert.Equal("1", input.DischargeDisposition);
        Assert.Equal(15f, input.AgeYears);
    }

    [Theory]
    [InlineData("<30", true)]
    [InlineData(">30", false)]
    [InlineData("NO", false)]
    public void LabelsOnlyReadmissionWithinThirtyDays(string readmitted, bool label) =>
        Assert.Equal(label, Cleaned(Encounter(("readmitted", readmitted))).ReadmittedWithin30Days);

    [Theory]
    [InlineData("11", EncounterCleaner.ExcludedExpired)]
    [InlineData("19", EncounterCleaner.ExcludedExpired)]
    [InlineData("20", EncounterCleaner.ExcludedExpired)]
    [InlineData("21", EncounterCleaner.ExcludedExpired)]
    [InlineData("13", EncounterCleaner.ExcludedHospice)]
    [InlineData("14", EncounterCleaner.ExcludedHospice)]
    public void ExcludesDeathAndHospiceDischarges(string disposition, string reason)
    {
        var result = EncounterCleaner.Clean(Encounter(("discharge_disposition_id", disposition)));

        var excluded = Assert.IsType<CleaningResult.Excluded>(result);
        Assert.Equal(reason, excluded.Reason);
        Assert.Equal(int.Parse(disposition), excluded.DischargeDispositionId);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("12")]
    [InlineData("18")]
    [InlineData("22")]
    public void KeepsOtherDischarges(string disposition) =>
        Assert.Equal(int.Parse(disposition), Cleaned(Encounter(("discharge_disposition_id", disposition))).DischargeDispositionId);

    [Fact]
    public void TurnsTheMissingMarkerIntoNull()
    {
        var clean = Cleaned(Encounter(("race", "?"), ("payer_code", "?"), ("medical_specialty", "?"), ("diag_1", "?"), ("diag_3", "")));

        Assert.Null(clean.Race);
        Assert.Null(clean.PayerCode);
        Assert.Null(clean.MedicalSpecialty);
        Assert.Null(clean.Diag1);
        Assert.Equal(Icd9.Missing, clean.Diag1Group);
        Assert.Equal(Icd9.Missing, clean.Diag3Group);
    }

    [Fact]
    public void TreatsUnknownGenderAsMissing() =>
        Assert.Null(Cleaned(Encounter(("gender", "Unknown/Invalid"))).Gender);

    [Theory]
    [InlineData("[0-10)", 5)]
    [InlineData("[70-80)", 75)]
    [InlineData("[90-100)", 95)]
    public void TurnsAgeBracketsIntoTheirMiddle(string bracket, int years) =>
        Assert.Equal(years, Cleaned(Encounter(("age", bracket))).AgeYears);

    [Fact]
    public void RefusesAnAgeBracketInOtherDigitsInsteadOfFailing()
    {
        var result = EncounterCleaner.Clean(Encounter(("age", "[\u0667\u0660-\u0668\u0660)")));

        var error = Assert.Single(Assert.IsType<CleaningResult.Invalid>(result).Errors);
        Assert.Equal("age", error.Field);
    }

    [Theory]
    [InlineData("None", "None")]
    [InlineData(">8", ">8")]
    [InlineData("", "None")]
    [InlineData(null, "None")]
    public void ReadsAnUnmeasuredLabResultAsNone(string? value, string expected) =>
        Assert.Equal(expected, Cleaned(Encounter(("A1Cresult", value))).A1CResult);

    [Fact]
    public void NamesEveryInvalidFieldAtOnce()
    {
        var raw = Encounter(("time_in_hospital", "three"), ("age", "[70-80"), ("metformin", "Maybe"), ("diag_1", "4280"),
            ("num_procedures", "-1"), ("gender", "F"));

        var invalid = Assert.IsType<CleaningResult.Invalid>(EncounterCleaner.Clean(raw));

        string[] expected = ["age", "diag_1", "gender", "metformin", "num_procedures", "time_in_hospital"];
        Assert.Equal(expected, invalid.Errors.Select(e => e.Field).Order());
        Assert.Contains(invalid.Errors, e => e.Field == "time_in_hospital" && e.Message.Contains("'three'"));
    }

    [Fact]
    public void RequiresTheLabelOnlyWhenAsked()
    {
        var raw = Encounter(("readmitted", null));

        Assert.IsType<CleaningResult.Invalid>(EncounterCleaner.Clean(raw));
        Assert.Null(Cleaned(raw, requireLabel: false).ReadmittedWithin30Days);
    }

    [Fact]
    public void DropsWeightAndTheConstantMedicationsFromCleanData()
    {
        Assert.Equal(21, EncounterCleaner.KeptMedications.Count);
        Assert.DoesNotContain("examide", EncounterCleaner.KeptMedications);
        Assert.DoesNotContain("citoglipton", EncounterCleaner.KeptMedications);
        Assert.DoesNotContain(" weight ", CleanEncounterTable.CreateSql);
        Assert.DoesNotContain(" examide ", CleanEncounterTable.CreateSql);
        Assert.DoesNotContain(" citoglipton ", CleanEncounterTable.CreateSql);
        Assert.Contains("glyburide_metformin text NOT NULL", CleanEncounterTable.CreateSql);
    }

    [Fact]
    public void CleansTheWholeDatasetLeavingOutOnlyDeathAndHospice()
    {
        // Arrange: every line of diabetic_data.csv
        var csv = string.Join("\n", TestData.CsvLines);
        var records = new CsvRecordReader(new StringReader(csv)).ReadAll().Skip(1);

        // Act
        var results = records.Select(r => EncounterCleaner.Clean(new RawEncounter(r.Fields))).ToList();

        // Assert: counts measured on the file (discharge ids 11: 1,642, 19: 8, 20: 2; 13: 399, 14: 372)
        Assert.Equal(TestData.EncounterCount, results.Count);
        Assert.Empty(results.OfType<CleaningResult.Invalid>());
        var excluded = results.OfType<CleaningResult.Excluded>().GroupBy(e => e.Reason).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1_652, excluded[EncounterCleaner.ExcludedExpired]);
        Assert.Equal(771, excluded[EncounterCleaner.ExcludedHospice]);
        var cleaned = results.OfType<CleaningResult.Cleaned>().Select(c => c.Encounter).ToList();
        Assert.Equal(99_343, cleaned.Count);
        Assert.Equal(11_314, cleaned.Count(e => e.ReadmittedWithin30Days == true));
    }
}
