using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;
using Diabetes.Core.Encounters;

namespace Diabetes.Core.Cleaning;

/// <summary>A field that cannot be cleaned, named by its source column.</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>The outcome of cleaning one encounter: exactly one of the three cases.</summary>
public abstract record CleaningResult
{
    private CleaningResult()
    {
    }

    /// <summary>Usable: the typed encounter.</summary>
    public sealed record Cleaned(CleanEncounter Encounter) : CleaningResult;

    /// <summary>Left out on purpose (death or hospice): the reason code and the discharge id.</summary>
    public sealed record Excluded(string Reason, int DischargeDispositionId) : CleaningResult;

    /// <summary>Values that break the dataset's rules, each named.</summary>
    public sealed record Invalid(IReadOnlyList<FieldError> Errors) : CleaningResult;
}

/// <summary>
/// The cleaning and feature rules, shared by CLEAN DATA and by the inference API, so that training and
/// serving see the same features. Each rule and its reason is listed in docs/data.md (Data decisions).
/// </summary>
public static partial class EncounterCleaner
{
    public const string ExcludedExpired = "expired";
    public const string ExcludedHospice = "hospice";

    /// <summary>The reason CLEAN DATA records for an encounter whose values break the dataset's rules (<see cref="CleaningResult.Invalid"/>).</summary>
    public const string ExcludedInvalid = "invalid";

    /// <summary>Discharge dispositions meaning the patient died (11, 19, 20, 21): a readmission is impossible.</summary>
    public static readonly FrozenSet<int> ExpiredDispositions = FrozenSet.Create(11, 19, 20, 21);

    /// <summary>Discharge dispositions meaning hospice (13, 14): readmission is not the outcome that matters.</summary>
    public static readonly FrozenSet<int> HospiceDispositions = FrozenSet.Create(13, 14);

    /// <summary>Columns left out of CLEAN DATA: weight is 97 % missing; examide and citoglipton are <c>No</c> in every row.</summary>
    public static readonly FrozenSet<string> DroppedColumns = FrozenSet.Create(StringComparer.Ordinal, "weight", "examide", "citoglipton");

    public static readonly IReadOnlyList<string> KeptMedications =
        EncounterSchema.MedicationNames.Where(name => !DroppedColumns.Contains(name)).ToArray();

    /// <summary>
    /// The medications <see cref="CleanEncounter.ActiveMedications"/> and <see cref="CleanEncounter.ChangedMedications"/>
    /// count: all of the dataset's, the dropped ones too.
    /// </summary>
    public static readonly IReadOnlyList<string> CountedMedications = EncounterSchema.MedicationNames;

    public static readonly IReadOnlyList<string> MedicationValues = ["No", "Steady", "Up", "Down"];
    public static readonly IReadOnlyList<string> MaxGluSerumValues = ["None", "Norm", ">200", ">300"];
    public static readonly IReadOnlyList<string> A1CResultValues = ["None", "Norm", ">7", ">8"];
    public static readonly IReadOnlyList<string> ChangeValues = ["No", "Ch"];
    public static readonly IReadOnlyList<string> DiabetesMedValues = ["No", "Yes"];
    public static readonly IReadOnlyList<string> GenderValues = ["Female", "Male"];
    public static readonly IReadOnlyList<string> ReadmittedValues = ["NO", ">30", "<30"];

    /// <summary>Whether a medication's value counts as prescribed (<see cref="CleanEncounter.ActiveMedications"/>).</summary>
    public static bool IsActive(string value) => value != "No";

    /// <summary>Whether a medication's value counts as changed (<see cref="CleanEncounter.ChangedMedications"/>).</summary>
    public static bool IsChanged(string value) => value is "Up" or "Down";

    /// <summary>Whether a discharge disposition leaves the encounter out of the model: death or hospice.</summary>
    public static bool IsExcluded(int dischargeDispositionId) =>
        ExpiredDispositions.Contains(dischargeDispositionId) || HospiceDispositions.Contains(dischargeDispositionId);

    /// <summary>The dataset's written form of "unknown".</summary>
    public const string MissingMarker = "?";

    /// <summary>The dataset's value for a gender it does not know; treated as missing.</summary>
    public const string UnknownGender = "Unknown/Invalid";

    // [0-9], not \d: \d also matches other scripts' digits, which int.Parse refuses.
    [GeneratedRegex(@"^\[([0-9]{1,3})-([0-9]{1,3})\)$", RegexOptions.CultureInvariant)]
    private static partial Regex AgeBracketPattern();

    /// <summary>Cleans one encounter; <paramref name="requireLabel"/> is false at inference, where the outcome is unknown.</summary>
    public static CleaningResult Clean(RawEncounter raw, bool requireLabel = true)
    {
        var reader = new FieldReader(raw);

        var discharge = reader.Integer("discharge_disposition_id");
        if (discharge is { } id && ExpiredDispositions.Contains(id))
        {
            return new CleaningResult.Excluded(ExcludedExpired, id);
        }

        if (discharge is { } hospiceId && HospiceDispositions.Contains(hospiceId))
        {
            return new CleaningResult.Excluded(ExcludedHospice, hospiceId);
        }

        var medications = KeptMedications.Select(name => reader.OneOf(name, MedicationValues)).ToArray();
        var countedMedications = CountedMedications.Select(name => Missing(raw[name]) ?? "No").ToArray();
        var outpatient = reader.Integer("number_outpatient");
        var emergency = reader.Integer("number_emergency");
        var inpatient = reader.Integer("number_inpatient");
        var diagnoses = new[] { reader.Diagnosis("diag_1"), reader.Diagnosis("diag_2"), reader.Diagnosis("diag_3") };

        var encounter = new CleanEncounter
        {
            Race = reader.Category("race"),
            Gender = reader.Gender(),
            AgeYears = reader.AgeMidpoint() ?? 0,
            AdmissionTypeId = reader.Integer("admission_type_id") ?? 0,
            DischargeDispositionId = discharge ?? 0,
            AdmissionSourceId = reader.Integer("admission_source_id") ?? 0,
            TimeInHospital = reader.Integer("time_in_hospital") ?? 0,
            PayerCode = reader.Category("payer_code"),
            MedicalSpecialty = reader.Category("medical_specialty"),
            NumLabProcedures = reader.Integer("num_lab_procedures") ?? 0,
            NumProcedures = reader.Integer("num_procedures") ?? 0,
            NumMedications = reader.Integer("num_medications") ?? 0,
            NumberOutpatient = outpatient ?? 0,
            NumberEmergency = emergency ?? 0,
            NumberInpatient = inpatient ?? 0,
            Diag1 = diagnoses[0],
            Diag2 = diagnoses[1],
            Diag3 = diagnoses[2],
            Diag1Group = Icd9.Group(diagnoses[0]),
            Diag2Group = Icd9.Group(diagnoses[1]),
            Diag3Group = Icd9.Group(diagnoses[2]),
            NumberDiagnoses = reader.Integer("number_diagnoses") ?? 0,
            MaxGluSerum = reader.Measurement("max_glu_serum", MaxGluSerumValues),
            A1CResult = reader.Measurement("A1Cresult", A1CResultValues),
            Medications = medications,
            Change = reader.OneOf("change", ChangeValues),
            DiabetesMed = reader.OneOf("diabetesMed", DiabetesMedValues),
            TotalPriorVisits = (outpatient ?? 0) + (emergency ?? 0) + (inpatient ?? 0),
            ActiveMedications = countedMedications.Count(IsActive),
            ChangedMedications = countedMedications.Count(IsChanged),
            CountedMedications = countedMedications,
            ReadmittedWithin30Days = requireLabel ? reader.OneOf("readmitted", ReadmittedValues) == "<30" : null,
        };

        return reader.Errors.Count == 0
            ? new CleaningResult.Cleaned(encounter)
            : new CleaningResult.Invalid(reader.Errors);
    }

    /// <summary><c>null</c> for the dataset's missing marker <c>?</c>, an empty field or an absent one.</summary>
    public static string? Missing(string? value) =>
        string.IsNullOrWhiteSpace(value) || value == MissingMarker ? null : value.Trim();

    /// <summary>Reads typed fields of one encounter and collects every error instead of stopping at the first.</summary>
    private sealed class FieldReader(RawEncounter raw)
    {
        public List<FieldError> Errors { get; } = [];

        public string? Category(string field) => Missing(raw[field]);

        public string? Gender()
        {
            var value = Missing(raw["gender"]);
            if (value is null || value == UnknownGender)
            {
                return null;
            }

            return GenderValues.Contains(value) ? value : Fail<string>("gender", value, $"one of {string.Join(", ", GenderValues)} or '{UnknownGender}'");
        }

        public int? Integer(string field)
        {
            var value = Missing(raw[field]);
            if (value is null)
            {
                return Fail<int?>(field, value, "a whole number of 0 or more");
            }

            return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? number
                : Fail<int?>(field, value, "a whole number of 0 or more");
        }

        public int? AgeMidpoint()
        {
            var value = Missing(raw["age"]);
            var match = value is null ? null : AgeBracketPattern().Match(value);
            if (match is not { Success: true })
            {
                return Fail<int?>("age", value, "a ten-year bracket such as [70-80)");
            }

            var low = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            var high = int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture);
            return high > low ? (low + high) / 2 : Fail<int?>("age", value, "a bracket whose upper bound is above its lower bound");
        }

        public string? Diagnosis(string field)
        {
            var value = Missing(raw[field]);
            if (value is null || Icd9.IsValidCode(value))
            {
                return value;
            }

            return Fail<string>(field, value, "an ICD-9 code such as 428, 250.83, V57 or E909");
        }

        /// <summary>A lab result: the dataset writes <c>None</c> for "not measured"; a missing value means the same.</summary>
        public string Measurement(string field, IReadOnlyList<string> allowed) =>
            Missing(raw[field]) is null ? allowed[0] : OneOf(field, allowed);

        public string OneOf(string field, IReadOnlyList<string> allowed)
        {
            var value = Missing(raw[field]);
            return value is not null && allowed.Contains(value)
                ? value
                : Fail<string>(field, value, $"one of {string.Join(", ", allowed)}") ?? allowed[0];
        }

        private T? Fail<T>(string field, string? value, string expected)
        {
            Errors.Add(new FieldError(field, value is null ? $"is required: {expected}" : $"'{value}' is not {expected}"));
            return default;
        }
    }
}
