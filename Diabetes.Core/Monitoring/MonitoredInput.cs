using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;

namespace Diabetes.Core.Monitoring;

/// <summary>
/// One input of the model as the prediction log keeps it and drift watches it: its name in <see cref="ModelInput"/> (a
/// medication is <c>Medications[metformin]</c>), its column in the log, the request field it comes from (the dataset's
/// column; a derived input names the fields it is computed from), and its value in a cleaned encounter, a number or a
/// category.
/// </summary>
public sealed record MonitoredInput(
    string Input, string Column, string Field, Func<ModelInput, float>? Number, Func<ModelInput, string>? Category)
{
    /// <summary>Every input of the model, in <see cref="ModelInput"/>'s order.</summary>
    public static readonly IReadOnlyList<MonitoredInput> All =
    [
        Categorical(nameof(ModelInput.Race), "race", "race", i => i.Race),
        Categorical(nameof(ModelInput.Gender), "gender", "gender", i => i.Gender),
        Categorical(nameof(ModelInput.AdmissionType), "admission_type", "admission_type_id", i => i.AdmissionType),
        Categorical(nameof(ModelInput.DischargeDisposition), "discharge_disposition", "discharge_disposition_id", i => i.DischargeDisposition),
        Categorical(nameof(ModelInput.AdmissionSource), "admission_source", "admission_source_id", i => i.AdmissionSource),
        Categorical(nameof(ModelInput.PayerCode), "payer_code", "payer_code", i => i.PayerCode),
        Categorical(nameof(ModelInput.MedicalSpecialty), "medical_specialty", "medical_specialty", i => i.MedicalSpecialty),
        Categorical(nameof(ModelInput.Diag1Group), "diag_1_group", "diag_1", i => i.Diag1Group),
        Categorical(nameof(ModelInput.Diag2Group), "diag_2_group", "diag_2", i => i.Diag2Group),
        Categorical(nameof(ModelInput.Diag3Group), "diag_3_group", "diag_3", i => i.Diag3Group),
        Categorical(nameof(ModelInput.Diag1Code), "diag_1_code", "diag_1", i => i.Diag1Code),
        Categorical(nameof(ModelInput.Diag2Code), "diag_2_code", "diag_2", i => i.Diag2Code),
        Categorical(nameof(ModelInput.Diag3Code), "diag_3_code", "diag_3", i => i.Diag3Code),
        Categorical(nameof(ModelInput.MaxGluSerum), "max_glu_serum", "max_glu_serum", i => i.MaxGluSerum),
        Categorical(nameof(ModelInput.A1CResult), "a1c_result", "A1Cresult", i => i.A1CResult),
        Categorical(nameof(ModelInput.Change), "change", "change", i => i.Change),
        Categorical(nameof(ModelInput.DiabetesMed), "diabetes_med", "diabetesMed", i => i.DiabetesMed),
        .. EncounterCleaner.KeptMedications.Select((name, index) =>
            Categorical($"{nameof(ModelInput.Medications)}[{name}]", EncounterSchema.Get(name).DbName, name, i => i.Medications[index])),
        Numeric(nameof(ModelInput.AgeYears), "age_years", "age", i => i.AgeYears),
        Numeric(nameof(ModelInput.TimeInHospital), "time_in_hospital", "time_in_hospital", i => i.TimeInHospital),
        Numeric(nameof(ModelInput.NumLabProcedures), "num_lab_procedures", "num_lab_procedures", i => i.NumLabProcedures),
        Numeric(nameof(ModelInput.NumProcedures), "num_procedures", "num_procedures", i => i.NumProcedures),
        Numeric(nameof(ModelInput.NumMedications), "num_medications", "num_medications", i => i.NumMedications),
        Numeric(nameof(ModelInput.NumberOutpatient), "number_outpatient", "number_outpatient", i => i.NumberOutpatient),
        Numeric(nameof(ModelInput.NumberEmergency), "number_emergency", "number_emergency", i => i.NumberEmergency),
        Numeric(nameof(ModelInput.NumberInpatient), "number_inpatient", "number_inpatient", i => i.NumberInpatient),
        Numeric(nameof(ModelInput.NumberDiagnoses), "number_diagnoses", "number_diagnoses", i => i.NumberDiagnoses),
        Numeric(nameof(ModelInput.TotalPriorVisits), "total_prior_visits", "number_outpatient+number_emergency+number_inpatient", i => i.TotalPriorVisits),
        Numeric(nameof(ModelInput.ActiveMedications), "active_medications", "medications (how many are not No)", i => i.ActiveMedications),
        Numeric(nameof(ModelInput.ChangedMedications), "changed_medications", "medications (how many are Up or Down)", i => i.ChangedMedications),
    ];

    /// <summary>The inputs by their <see cref="Input"/> name.</summary>
    public static readonly IReadOnlyDictionary<string, MonitoredInput> ByInput = All.ToDictionary(input => input.Input, StringComparer.Ordinal);

    private static MonitoredInput Categorical(string input, string column, string field, Func<ModelInput, string> value) =>
        new(input, column, field, null, value);

    private static MonitoredInput Numeric(string input, string column, string field, Func<ModelInput, float> value) =>
        new(input, column, field, value, null);
}
