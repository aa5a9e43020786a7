namespace Diabetes.Core.Cleaning;

/// <summary>
/// One encounter after cleaning: typed, missing values as <c>null</c>, with the engineered features.
/// Property order is the column order of <c>clean_encounters</c> after its key columns (<see cref="CountedMedications"/>
/// is not stored).
/// </summary>
public sealed record CleanEncounter
{
    public string? Race { get; init; }
    public string? Gender { get; init; }
    /// <summary>Middle of the age bracket: <c>[70-80)</c> is 75.</summary>
    public required int AgeYears { get; init; }
    public required int AdmissionTypeId { get; init; }
    public required int DischargeDispositionId { get; init; }
    public required int AdmissionSourceId { get; init; }
    public required int TimeInHospital { get; init; }
    public string? PayerCode { get; init; }
    public string? MedicalSpecialty { get; init; }
    public required int NumLabProcedures { get; init; }
    public required int NumProcedures { get; init; }
    public required int NumMedications { get; init; }
    public required int NumberOutpatient { get; init; }
    public required int NumberEmergency { get; init; }
    public required int NumberInpatient { get; init; }
    public string? Diag1 { get; init; }
    public string? Diag2 { get; init; }
    public string? Diag3 { get; init; }
    public required string Diag1Group { get; init; }
    public required string Diag2Group { get; init; }
    public required string Diag3Group { get; init; }
    public required int NumberDiagnoses { get; init; }
    /// <summary><c>None</c> (not measured), <c>Norm</c>, <c>&gt;200</c> or <c>&gt;300</c>.</summary>
    public required string MaxGluSerum { get; init; }
    /// <summary><c>None</c> (not measured), <c>Norm</c>, <c>&gt;7</c> or <c>&gt;8</c>.</summary>
    public required string A1CResult { get; init; }
    /// <summary>The kept medication columns, in <see cref="EncounterCleaner.KeptMedications"/> order.</summary>
    public required IReadOnlyList<string> Medications { get; init; }
    /// <summary><c>Ch</c> or <c>No</c>: whether any diabetes medication was changed.</summary>
    public required string Change { get; init; }
    /// <summary><c>Yes</c> or <c>No</c>: whether any diabetes medication was prescribed.</summary>
    public required string DiabetesMed { get; init; }
    /// <summary>Outpatient + emergency + inpatient visits in the year before the encounter.</summary>
    public required int TotalPriorVisits { get; init; }
    /// <summary>How many of the 23 medications were prescribed (not <c>No</c>).</summary>
    public required int ActiveMedications { get; init; }
    /// <summary>How many doses went <c>Up</c> or <c>Down</c> during the encounter.</summary>
    public required int ChangedMedications { get; init; }
    /// <summary>
    /// The values of <see cref="EncounterCleaner.CountedMedications"/> the two counts above were made of (<c>No</c> for a
    /// missing one), for explaining a prediction; not stored in CLEAN DATA, so empty when read back from it. A list
    /// compares by reference: two cleanings of one row are not equal records, so do not compare them.
    /// </summary>
    public IReadOnlyList<string> CountedMedications { get; init; } = [];
    /// <summary>The label, <c>readmitted = '&lt;30'</c>; <c>null</c> when the outcome is not known (a prediction request).</summary>
    public bool? ReadmittedWithin30Days { get; init; }
}
