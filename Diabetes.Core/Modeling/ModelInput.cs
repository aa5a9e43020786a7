using Diabetes.Core.Cleaning;
using Microsoft.ML.Data;

namespace Diabetes.Core.Modeling;

/// <summary>
/// What a model reads: the features of one cleaned encounter, in ML.NET's types. Built from
/// <see cref="CleanEncounter"/> by <see cref="FromClean"/> both in training and in serving.
/// </summary>
public sealed class ModelInput
{
    /// <summary>The value a missing category takes, so that "unknown" is a category of its own.</summary>
    public const string MissingCategory = "missing";

    /// <summary>
    /// What the featurization appends to a categorical column's name for its one-hot encoding, whose slots the feature
    /// vector names <c>RaceOneHot.Caucasian</c> (and <c>MedicationsOneHot.[0].Steady</c> for the medications).
    /// </summary>
    public const string OneHotSuffix = "OneHot";

    public static readonly string[] CategoricalColumns =
    [
        nameof(Race), nameof(Gender), nameof(AdmissionType), nameof(DischargeDisposition), nameof(AdmissionSource),
        nameof(PayerCode), nameof(MedicalSpecialty), nameof(Diag1Group), nameof(Diag2Group), nameof(Diag3Group),
        nameof(Diag1Code), nameof(Diag2Code), nameof(Diag3Code), nameof(MaxGluSerum), nameof(A1CResult), nameof(Change), nameof(DiabetesMed),
    ];

    public static readonly string[] NumericColumns =
    [
        nameof(AgeYears), nameof(TimeInHospital), nameof(NumLabProcedures), nameof(NumProcedures), nameof(NumMedications),
        nameof(NumberOutpatient), nameof(NumberEmergency), nameof(NumberInpatient), nameof(NumberDiagnoses),
        nameof(TotalPriorVisits), nameof(ActiveMedications), nameof(ChangedMedications),
    ];

    public string Race { get; set; } = MissingCategory;
    public string Gender { get; set; } = MissingCategory;
    public string AdmissionType { get; set; } = MissingCategory;
    public string DischargeDisposition { get; set; } = MissingCategory;
    public string AdmissionSource { get; set; } = MissingCategory;
    public string PayerCode { get; set; } = MissingCategory;
    public string MedicalSpecialty { get; set; } = MissingCategory;
    public string Diag1Group { get; set; } = MissingCategory;
    public string Diag2Group { get; set; } = MissingCategory;
    public string Diag3Group { get; set; } = MissingCategory;
    /// <summary>
    /// The ICD-9 code as recorded, finer than the group; rare ones are capped. Kept whole: the dataset writes decimals
    /// almost only for the diabetes codes 250.xx, whose digits say complication, type and control.
    /// </summary>
    public string Diag1Code { get; set; } = MissingCategory;
    public string Diag2Code { get; set; } = MissingCategory;
    public string Diag3Code { get; set; } = MissingCategory;
    public string MaxGluSerum { get; set; } = MissingCategory;
    public string A1CResult { get; set; } = MissingCategory;
    public string Change { get; set; } = MissingCategory;
    public string DiabetesMed { get; set; } = MissingCategory;

    /// <summary>The kept medication columns (No, Steady, Up, Down), in <see cref="EncounterCleaner.KeptMedications"/> order.</summary>
    [VectorType(21)]
    public string[] Medications { get; set; } = [];

    public float AgeYears { get; set; }
    public float TimeInHospital { get; set; }
    public float NumLabProcedures { get; set; }
    public float NumProcedures { get; set; }
    public float NumMedications { get; set; }
    public float NumberOutpatient { get; set; }
    public float NumberEmergency { get; set; }
    public float NumberInpatient { get; set; }
    public float NumberDiagnoses { get; set; }
    public float TotalPriorVisits { get; set; }
    public float ActiveMedications { get; set; }
    public float ChangedMedications { get; set; }

    /// <summary>
    /// What <see cref="ActiveMedications"/> and <see cref="ChangedMedications"/> were counted from
    /// (<see cref="CleanEncounter.CountedMedications"/>): an explanation shares those counts among the medications. Not
    /// a column of the model.
    /// </summary>
    [NoColumn]
    public IReadOnlyList<string> CountedMedications { get; set; } = [];

    /// <summary>Readmitted within 30 days; false when unknown (serving ignores it).</summary>
    public bool Label { get; set; }

    /// <summary>
    /// Always 1: a column of the input schema every saved model carries, kept so that those models load as they were.
    /// Training weighs its featurized copies of the rows by class itself (the trainer's <c>ModelTrainer</c>).
    /// </summary>
    public float Weight { get; set; } = 1;

    /// <summary>A shallow copy (the medication array is shared; replace it rather than change it).</summary>
    public ModelInput Copy() => (ModelInput)MemberwiseClone();

    public static ModelInput FromClean(CleanEncounter encounter) => new()
    {
        Race = encounter.Race ?? MissingCategory,
        Gender = encounter.Gender ?? MissingCategory,
        AdmissionType = Code(encounter.AdmissionTypeId),
        DischargeDisposition = Code(encounter.DischargeDispositionId),
        AdmissionSource = Code(encounter.AdmissionSourceId),
        PayerCode = encounter.PayerCode ?? MissingCategory,
        MedicalSpecialty = encounter.MedicalSpecialty ?? MissingCategory,
        Diag1Group = encounter.Diag1Group,
        Diag2Group = encounter.Diag2Group,
        Diag3Group = encounter.Diag3Group,
        Diag1Code = encounter.Diag1 ?? MissingCategory,
        Diag2Code = encounter.Diag2 ?? MissingCategory,
        Diag3Code = encounter.Diag3 ?? MissingCategory,
        MaxGluSerum = encounter.MaxGluSerum,
        A1CResult = encounter.A1CResult,
        Change = encounter.Change,
        DiabetesMed = encounter.DiabetesMed,
        Medications = [.. encounter.Medications],
        AgeYears = encounter.AgeYears,
        TimeInHospital = encounter.TimeInHospital,
        NumLabProcedures = encounter.NumLabProcedures,
        NumProcedures = encounter.NumProcedures,
        NumMedications = encounter.NumMedications,
        NumberOutpatient = encounter.NumberOutpatient,
        NumberEmergency = encounter.NumberEmergency,
        NumberInpatient = encounter.NumberInpatient,
        NumberDiagnoses = encounter.NumberDiagnoses,
        TotalPriorVisits = encounter.TotalPriorVisits,
        ActiveMedications = encounter.ActiveMedications,
        ChangedMedications = encounter.ChangedMedications,
        CountedMedications = encounter.CountedMedications,
        Label = encounter.ReadmittedWithin30Days == true,
    };

    private static string Code(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What a model writes: the calibrated probability of readmission within 30 days.</summary>
public sealed class ModelOutput
{
    public float Probability { get; set; }

    public float Score { get; set; }
}
