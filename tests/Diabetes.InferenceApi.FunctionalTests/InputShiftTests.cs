using Diabetes.Bench;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Testing;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>The traffic tool's shifts and options, without a service: what each change does to a field, and what is refused.</summary>
public class InputShiftTests
{
    [Theory]
    [InlineData("age=+2", "age", "[50-60)", "[70-80)")]
    [InlineData("age=+2", "age", "[80-90)", "[90-100)")]
    [InlineData("age=-3", "age", "[10-20)", "[0-10)")]
    [InlineData("age=[80-90)", "age", "[50-60)", "[80-90)")]
    [InlineData("num_medications=x2", "num_medications", "15", "30")]
    [InlineData("num_medications=x2", "num_medications", "50", "81")]
    [InlineData("num_medications=x0.5", "num_medications", "15", "8")]
    [InlineData("num_lab_procedures=+10", "num_lab_procedures", "44", "54")]
    [InlineData("time_in_hospital=-5", "time_in_hospital", "3", "1")]
    [InlineData("num_procedures=2", "num_procedures", "0", "2")]
    [InlineData("num_medications=x2", "num_medications", "?", "?")]
    [InlineData("A1Cresult=>8", "A1Cresult", "None", ">8")]
    [InlineData("insulin=Up", "insulin", "No", "Up")]
    [InlineData("race=Asian", "race", "?", "Asian")]
    [InlineData("admission_type_id=3", "admission_type_id", "1", "3")]
    [InlineData("diag_1=250.83", "diag_1", "428", "250.83")]
    public void AShiftChangesItsFieldAsWrittenWithinTheDatasetsRange(string shift, string field, string before, string after)
    {
        // Arrange
        var encounter = Encounter((field, before));

        // Act
        var shifted = InputShift.Apply([InputShift.Parse(shift)], encounter);

        // Assert: that field alone changed, in a new encounter
        Assert.Equal(after, shifted[field]);
        Assert.Equal(before, encounter[field]);
        Assert.Equal(
            EncounterSchema.Columns.Where(c => c.SourceName != field).Select(c => encounter[c]),
            EncounterSchema.Columns.Where(c => c.SourceName != field).Select(c => shifted[c]));
    }

    [Fact]
    public void ShiftsOfSeveralFieldsAllApplyAndTheShiftedEncounterIsStillOneTheModelTakes()
    {
        var encounter = Encounter(("age", "[60-70)"), ("num_medications", "20"));

        var shifted = InputShift.Apply([InputShift.Parse("age=+2"), InputShift.Parse("num_medications=x2")], encounter);

        Assert.Equal(("[80-90)", "40"), (shifted["age"], shifted["num_medications"]));
        var input = ModelInput.FromClean(((CleaningResult.Cleaned)EncounterCleaner.Clean(shifted)).Encounter);
        Assert.Equal((85f, 40f), (input.AgeYears, input.NumMedications));
    }

    [Theory]
    [InlineData("age", "field=change")]
    [InlineData("age=", "field=change")]
    [InlineData("=2", "field=change")]
    [InlineData("readmitted=NO", "not a request field")]
    [InlineData("patient_nbr=+1", "not a request field")]
    [InlineData("Age=+2", "not a request field")]
    [InlineData("age=x2", "+N or -N brackets")]
    [InlineData("age=+two", "+N or -N")]
    [InlineData("num_medications=x-1", "xF")]
    [InlineData("num_medications=xx", "xF")]
    [InlineData("num_medications=200", "from 0 to 81")]
    [InlineData("A1Cresult=>9", "one of None, Norm, >7, >8")]
    [InlineData("admission_type_id=99", "one of the codes")]
    [InlineData("diag_1=ABC", "ICD-9")]
    public void AShiftThatCannotBeMadeIsRefusedSayingWhy(string shift, string why)
    {
        var refusal = Assert.Throws<FormatException>(() => InputShift.Parse(shift));

        Assert.Contains(why, refusal.Message);
    }

    [Fact]
    public void TheOptionsAreReadWithTheirDefaults()
    {
        var dataset = TestData.DatasetZip;

        var all = TrafficOptions.Parse(
            ["--url", "http://127.0.0.1:5080", "--split", "validation", "--rate", "200", "--limit", "500", "--outcomes", "--shift", "age=+2", "--shift", "num_medications=x2", dataset], null);
        var fewest = TrafficOptions.Parse(["--url", "http://inference/base"], dataset);

        Assert.Equal(("http://127.0.0.1:5080/", DatasetSplit.Validation, 200.0, (int?)500, true, "age=+2, num_medications=x2", dataset),
            (all.Url.ToString(), all.Split, all.Rate, all.Limit, all.Outcomes, string.Join(", ", all.Shifts), all.Dataset));
        Assert.Equal(("http://inference/base/", DatasetSplit.Test, TrafficOptions.DefaultRate, (int?)null, false, 0, dataset),
            (fewest.Url.ToString(), fewest.Split, fewest.Rate, fewest.Limit, fewest.Outcomes, fewest.Shifts.Count, fewest.Dataset));
    }

    [Theory]
    [InlineData("--split test", "--url is required")]
    [InlineData("--url 127.0.0.1:5080", "not an http(s) address")]
    [InlineData("--url http://a --split tests", "not a split")]
    [InlineData("--url http://a --rate 0", "--rate 0")]
    [InlineData("--url http://a --rate fast", "--rate fast")]
    [InlineData("--url http://a --limit -5", "--limit -5")]
    [InlineData("--url http://a --limit 0", "--limit 0")]
    [InlineData("--url http://a --shift", "--shift needs a value")]
    [InlineData("--url http://a --shift age=+1 --shift age=+2", "age is shifted twice")]
    [InlineData("--url http://a --fast", "--fast is not an option")]
    [InlineData("--url http://a /nowhere/dataset.zip", "does not exist")]
    public async Task BadOptionsAreRefusedSayingWhatAndExitWithTwo(string line, string why)
    {
        var args = line.Split(' ');

        var refusal = Assert.Throws<FormatException>(() => TrafficOptions.Parse(args, TestData.DatasetZip));

        Assert.Contains(why, refusal.Message);
        Assert.Equal(2, await TrafficReplay.RunCommandAsync(args));
    }

    /// <summary>The typical encounter as the dataset writes it, with some fields set.</summary>
    private static RawEncounter Encounter(params (string Field, string Value)[] fields)
    {
        var values = new string?[EncounterSchema.Columns.Count];
        foreach (var (field, value) in TypicalEncounter.Fields)
        {
            values[EncounterSchema.Get(field).Ordinal] = value?.ToString() ?? "?";
        }

        values[EncounterSchema.EncounterId.Ordinal] = "1";
        values[EncounterSchema.PatientNbr.Ordinal] = "1";
        values[EncounterSchema.Readmitted.Ordinal] = "NO";
        foreach (var (field, value) in fields)
        {
            values[EncounterSchema.Get(field).Ordinal] = value;
        }

        return new RawEncounter(values);
    }
}
