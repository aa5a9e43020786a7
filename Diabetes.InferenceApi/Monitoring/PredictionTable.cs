using System.Globalization;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Npgsql;
using NpgsqlTypes;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// The table <c>predictions</c> of the prediction log (created by the migration <c>PredictionsTable</c>): one
/// definition of the model inputs' columns, which the binary COPY writer follows.
/// </summary>
public static class PredictionTable
{
    public const string Name = "predictions";

    /// <summary>
    /// The model inputs' columns, in <see cref="ModelInput"/>'s order: the categories as text (each kept medication in
    /// a column of its own), then the numbers as <c>real</c> (the model's own <see cref="float"/>).
    /// </summary>
    public static readonly IReadOnlyList<InputColumn> InputColumns =
    [
        Text("race", input => input.Race),
        Text("gender", input => input.Gender),
        Text("admission_type", input => input.AdmissionType),
        Text("discharge_disposition", input => input.DischargeDisposition),
        Text("admission_source", input => input.AdmissionSource),
        Text("payer_code", input => input.PayerCode),
        Text("medical_specialty", input => input.MedicalSpecialty),
        Text("diag_1_group", input => input.Diag1Group),
        Text("diag_2_group", input => input.Diag2Group),
        Text("diag_3_group", input => input.Diag3Group),
        Text("diag_1_code", input => input.Diag1Code),
        Text("diag_2_code", input => input.Diag2Code),
        Text("diag_3_code", input => input.Diag3Code),
        Text("max_glu_serum", input => input.MaxGluSerum),
        Text("a1c_result", input => input.A1CResult),
        Text("change", input => input.Change),
        Text("diabetes_med", input => input.DiabetesMed),
        .. EncounterCleaner.KeptMedications.Select((name, index) => Text(EncounterSchema.Get(name).DbName, input => input.Medications[index])),
        Real("age_years", input => input.AgeYears),
        Real("time_in_hospital", input => input.TimeInHospital),
        Real("num_lab_procedures", input => input.NumLabProcedures),
        Real("num_procedures", input => input.NumProcedures),
        Real("num_medications", input => input.NumMedications),
        Real("number_outpatient", input => input.NumberOutpatient),
        Real("number_emergency", input => input.NumberEmergency),
        Real("number_inpatient", input => input.NumberInpatient),
        Real("number_diagnoses", input => input.NumberDiagnoses),
        Real("total_prior_visits", input => input.TotalPriorVisits),
        Real("active_medications", input => input.ActiveMedications),
        Real("changed_medications", input => input.ChangedMedications),
    ];

    private static readonly string CopySql =
        $"COPY {Name} (prediction_id, predicted_at, model_name, model_version, probability, threshold, predicted_readmitted, " +
        $"{string.Join(", ", InputColumns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)";

    /// <summary>
    /// Writes the predictions in one binary COPY: all or none. Every field is written synchronously and typed into the
    /// COPY's buffer; only the end is awaited.
    /// </summary>
    public static async Task CopyAsync(NpgsqlConnection connection, IReadOnlyList<LoggedPrediction> predictions, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
        foreach (var prediction in predictions)
        {
            writer.StartRow();
            writer.Write(prediction.Id, NpgsqlDbType.Uuid);
            writer.Write(prediction.At, NpgsqlDbType.TimestampTz);
            writer.Write(prediction.ModelName, NpgsqlDbType.Text);
            writer.Write(int.Parse(prediction.ModelVersion, CultureInfo.InvariantCulture), NpgsqlDbType.Integer);
            writer.Write(prediction.Probability, NpgsqlDbType.Double);
            writer.Write(prediction.Threshold, NpgsqlDbType.Double);
            writer.Write(prediction.PredictedReadmitted, NpgsqlDbType.Boolean);
            foreach (var column in InputColumns)
            {
                column.Write(writer, prediction.Input);
            }
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static InputColumn Text(string name, Func<ModelInput, string> value) =>
        new(name, NpgsqlDbType.Text, input => value(input), (writer, input) => writer.Write(value(input), NpgsqlDbType.Text));

    private static InputColumn Real(string name, Func<ModelInput, float> value) =>
        new(name, NpgsqlDbType.Real, input => value(input), (writer, input) => writer.Write(value(input), NpgsqlDbType.Real));
}

/// <summary>
/// A model input's column: its name and type, the input's value in it, and how the COPY writes that value (typed, not
/// boxed).
/// </summary>
public sealed record InputColumn(string Name, NpgsqlDbType Type, Func<ModelInput, object> Value, Action<NpgsqlBinaryImporter, ModelInput> Write);
