using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Text;
using Npgsql;
using NpgsqlTypes;

namespace Diabetes.Core.Data;

/// <summary>A row of <c>clean_encounters</c>: the key columns, the source file it came from, and the cleaned encounter.</summary>
public sealed record CleanEncounterRow(
    long EncounterId, long PatientNbr, DatasetSplit Split, int? BatchNumber, string SourceSha256, CleanEncounter Encounter);

/// <summary>
/// The table <c>clean_encounters</c> in CLEAN DATA: written by the ingest service, read by the trainer.
/// One definition of its columns serves the DDL, the binary COPY writer and the reader.
/// </summary>
public static class CleanEncounterTable
{
    public const string Name = "clean_encounters";

    private static readonly (string Column, NpgsqlDbType Type)[] FeatureColumns =
    [
        ("race", NpgsqlDbType.Text),
        ("gender", NpgsqlDbType.Text),
        ("age_years", NpgsqlDbType.Integer),
        ("admission_type_id", NpgsqlDbType.Integer),
        ("discharge_disposition_id", NpgsqlDbType.Integer),
        ("admission_source_id", NpgsqlDbType.Integer),
        ("time_in_hospital", NpgsqlDbType.Integer),
        ("payer_code", NpgsqlDbType.Text),
        ("medical_specialty", NpgsqlDbType.Text),
        ("num_lab_procedures", NpgsqlDbType.Integer),
        ("num_procedures", NpgsqlDbType.Integer),
        ("num_medications", NpgsqlDbType.Integer),
        ("number_outpatient", NpgsqlDbType.Integer),
        ("number_emergency", NpgsqlDbType.Integer),
        ("number_inpatient", NpgsqlDbType.Integer),
        ("diag_1", NpgsqlDbType.Text),
        ("diag_2", NpgsqlDbType.Text),
        ("diag_3", NpgsqlDbType.Text),
        ("diag_1_group", NpgsqlDbType.Text),
        ("diag_2_group", NpgsqlDbType.Text),
        ("diag_3_group", NpgsqlDbType.Text),
        ("number_diagnoses", NpgsqlDbType.Integer),
        ("max_glu_serum", NpgsqlDbType.Text),
        ("a1c_result", NpgsqlDbType.Text),
        .. EncounterCleaner.KeptMedications.Select(name => (EncounterSchema.Get(name).DbName, NpgsqlDbType.Text)),
        ("change", NpgsqlDbType.Text),
        ("diabetes_med", NpgsqlDbType.Text),
        ("total_prior_visits", NpgsqlDbType.Integer),
        ("active_medications", NpgsqlDbType.Integer),
        ("changed_medications", NpgsqlDbType.Integer),
        ("readmitted_within_30_days", NpgsqlDbType.Boolean),
    ];

    private static readonly string[] KeyColumns = ["encounter_id", "patient_nbr", "split", "batch_number", "source_sha256"];

    private static readonly string ColumnList = string.Join(", ", KeyColumns.Concat(FeatureColumns.Select(c => c.Column)));

    public static string CreateSql { get; } = $"""
        CREATE TABLE IF NOT EXISTS {Name} (
            encounter_id bigint PRIMARY KEY,
            patient_nbr bigint NOT NULL,
            split text NOT NULL CHECK (split IN ('train', 'validation', 'test')),
            batch_number integer,
            source_sha256 text NOT NULL,
            {string.Join(",\n    ", FeatureColumns.Select(c => $"{c.Column} {SqlType(c.Type)}{(IsNullable(c.Column) ? "" : " NOT NULL")}"))},
            cleaned_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS {Name}_split_batch ON {Name} (split, batch_number);
        """;

    public static string SelectSql { get; } = $"SELECT {ColumnList} FROM {Name}";

    /// <summary>
    /// Writes the rows with binary COPY as they come, holding none of them. Every field is written synchronously and
    /// typed into the COPY's buffer (no boxing, no task per field); only reading the next row and the end are awaited.
    /// </summary>
    public static async Task<ulong> CopyAsync(NpgsqlConnection connection, IAsyncEnumerable<CleanEncounterRow> rows, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            $"COPY {Name} ({ColumnList}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            writer.StartRow();
            writer.Write(row.EncounterId, NpgsqlDbType.Bigint);
            writer.Write(row.PatientNbr, NpgsqlDbType.Bigint);
            writer.Write(row.Split.ToName(), NpgsqlDbType.Text);
            writer.WriteNullable(row.BatchNumber);
            writer.Write(row.SourceSha256, NpgsqlDbType.Text);
            WriteFeatures(writer, row.Encounter);
        }

        return await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>Reads the rows a query selects; the query must start with <see cref="SelectSql"/>.</summary>
    public static async IAsyncEnumerable<CleanEncounterRow> ReadAsync(
        NpgsqlCommand command, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // Every text column holds one of a few hundred values (categories, codes, the source's hash): one string for
        // each value instead of some thirty new strings a row keeps the trainer's copy of CLEAN DATA several times smaller.
        var values = new StringPool();
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadRow(reader, values);
        }
    }

    private static CleanEncounterRow ReadRow(NpgsqlDataReader reader, StringPool values)
    {
        var next = KeyColumns.Length;
        string? Text()
        {
            var i = next++;
            return reader.IsDBNull(i) ? null : values.Get(reader.GetString(i));
        }

        int Integer() => reader.GetInt32(next++);

        // Initialisers run in the order written, which is the column order.
        var encounter = new CleanEncounter
        {
            Race = Text(),
            Gender = Text(),
            AgeYears = Integer(),
            AdmissionTypeId = Integer(),
            DischargeDispositionId = Integer(),
            AdmissionSourceId = Integer(),
            TimeInHospital = Integer(),
            PayerCode = Text(),
            MedicalSpecialty = Text(),
            NumLabProcedures = Integer(),
            NumProcedures = Integer(),
            NumMedications = Integer(),
            NumberOutpatient = Integer(),
            NumberEmergency = Integer(),
            NumberInpatient = Integer(),
            Diag1 = Text(),
            Diag2 = Text(),
            Diag3 = Text(),
            Diag1Group = Text()!,
            Diag2Group = Text()!,
            Diag3Group = Text()!,
            NumberDiagnoses = Integer(),
            MaxGluSerum = Text()!,
            A1CResult = Text()!,
            Medications = EncounterCleaner.KeptMedications.Select(_ => Text()!).ToArray(),
            Change = Text()!,
            DiabetesMed = Text()!,
            TotalPriorVisits = Integer(),
            ActiveMedications = Integer(),
            ChangedMedications = Integer(),
            ReadmittedWithin30Days = reader.IsDBNull(next) ? null : reader.GetBoolean(next),
        };

        return new CleanEncounterRow(
            reader.GetInt64(0),
            reader.GetInt64(1),
            SplitRule.Parse(reader.GetString(2)),
            reader.IsDBNull(3) ? null : reader.GetInt32(3),
            values.Get(reader.GetString(4)),
            encounter);
    }

    /// <summary>The feature columns of a row, in the order of <see cref="FeatureColumns"/>.</summary>
    private static void WriteFeatures(NpgsqlBinaryImporter writer, CleanEncounter e)
    {
        writer.WriteText(e.Race);
        writer.WriteText(e.Gender);
        writer.Write(e.AgeYears, NpgsqlDbType.Integer);
        writer.Write(e.AdmissionTypeId, NpgsqlDbType.Integer);
        writer.Write(e.DischargeDispositionId, NpgsqlDbType.Integer);
        writer.Write(e.AdmissionSourceId, NpgsqlDbType.Integer);
        writer.Write(e.TimeInHospital, NpgsqlDbType.Integer);
        writer.WriteText(e.PayerCode);
        writer.WriteText(e.MedicalSpecialty);
        writer.Write(e.NumLabProcedures, NpgsqlDbType.Integer);
        writer.Write(e.NumProcedures, NpgsqlDbType.Integer);
        writer.Write(e.NumMedications, NpgsqlDbType.Integer);
        writer.Write(e.NumberOutpatient, NpgsqlDbType.Integer);
        writer.Write(e.NumberEmergency, NpgsqlDbType.Integer);
        writer.Write(e.NumberInpatient, NpgsqlDbType.Integer);
        writer.WriteText(e.Diag1);
        writer.WriteText(e.Diag2);
        writer.WriteText(e.Diag3);
        writer.WriteText(e.Diag1Group);
        writer.WriteText(e.Diag2Group);
        writer.WriteText(e.Diag3Group);
        writer.Write(e.NumberDiagnoses, NpgsqlDbType.Integer);
        writer.WriteText(e.MaxGluSerum);
        writer.WriteText(e.A1CResult);
        foreach (var medication in e.Medications)
        {
            writer.WriteText(medication);
        }

        writer.WriteText(e.Change);
        writer.WriteText(e.DiabetesMed);
        writer.Write(e.TotalPriorVisits, NpgsqlDbType.Integer);
        writer.Write(e.ActiveMedications, NpgsqlDbType.Integer);
        writer.Write(e.ChangedMedications, NpgsqlDbType.Integer);
        if (e.ReadmittedWithin30Days is { } readmitted)
        {
            writer.Write(readmitted, NpgsqlDbType.Boolean);
        }
        else
        {
            writer.WriteNull();
        }
    }

    private static bool IsNullable(string column) =>
        column is "race" or "gender" or "payer_code" or "medical_specialty" or "diag_1" or "diag_2" or "diag_3"
            or "readmitted_within_30_days";

    private static string SqlType(NpgsqlDbType type) => type switch
    {
        NpgsqlDbType.Text => "text",
        NpgsqlDbType.Integer => "integer",
        NpgsqlDbType.Boolean => "boolean",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
