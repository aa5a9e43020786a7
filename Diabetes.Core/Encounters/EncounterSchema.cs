namespace Diabetes.Core.Encounters;

/// <summary>How a source column is read and cleaned.</summary>
public enum ColumnKind
{
    /// <summary><c>encounter_id</c> and <c>patient_nbr</c>: whole numbers that must parse.</summary>
    Identifier,
    /// <summary>A code or count stored as a whole number.</summary>
    Integer,
    /// <summary>A free category (race, payer code, specialty, ...).</summary>
    Category,
    /// <summary>An ICD-9 code (<c>diag_1..3</c>).</summary>
    Diagnosis,
    /// <summary>A medication column: No / Steady / Up / Down.</summary>
    Medication,
    /// <summary><c>readmitted</c>: the outcome.</summary>
    Label,
}

/// <param name="SourceName">The header in <c>diabetic_data.csv</c> (also the JSON property name of a prediction request).</param>
/// <param name="DbName">The column in <c>raw_encounters</c>: lower-case, <c>-</c> turned into <c>_</c>.</param>
public sealed record EncounterColumn(string SourceName, string DbName, ColumnKind Kind, int Ordinal);

/// <summary>The 50 columns of the Diabetes 130-US hospitals dataset, in the source file's order.</summary>
public static class EncounterSchema
{
    /// <summary>Medication columns in source order; each holds No, Steady, Up or Down.</summary>
    public static readonly IReadOnlyList<string> MedicationNames =
    [
        "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide",
        "glipizide", "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose", "miglitol",
        "troglitazone", "tolazamide", "examide", "citoglipton", "insulin", "glyburide-metformin",
        "glipizide-metformin", "glimepiride-pioglitazone", "metformin-rosiglitazone", "metformin-pioglitazone",
    ];

    public static readonly IReadOnlyList<EncounterColumn> Columns = Build(
    [
        ("encounter_id", ColumnKind.Identifier),
        ("patient_nbr", ColumnKind.Identifier),
        ("race", ColumnKind.Category),
        ("gender", ColumnKind.Category),
        ("age", ColumnKind.Category),
        ("weight", ColumnKind.Category),
        ("admission_type_id", ColumnKind.Integer),
        ("discharge_disposition_id", ColumnKind.Integer),
        ("admission_source_id", ColumnKind.Integer),
        ("time_in_hospital", ColumnKind.Integer),
        ("payer_code", ColumnKind.Category),
        ("medical_specialty", ColumnKind.Category),
        ("num_lab_procedures", ColumnKind.Integer),
        ("num_procedures", ColumnKind.Integer),
        ("num_medications", ColumnKind.Integer),
        ("number_outpatient", ColumnKind.Integer),
        ("number_emergency", ColumnKind.Integer),
        ("number_inpatient", ColumnKind.Integer),
        ("diag_1", ColumnKind.Diagnosis),
        ("diag_2", ColumnKind.Diagnosis),
        ("diag_3", ColumnKind.Diagnosis),
        ("number_diagnoses", ColumnKind.Integer),
        ("max_glu_serum", ColumnKind.Category),
        ("A1Cresult", ColumnKind.Category),
        .. MedicationNames.Select(name => (name, ColumnKind.Medication)),
        ("change", ColumnKind.Category),
        ("diabetesMed", ColumnKind.Category),
        ("readmitted", ColumnKind.Label),
    ]);

    private static readonly Dictionary<string, EncounterColumn> BySourceName =
        Columns.ToDictionary(c => c.SourceName, StringComparer.Ordinal);

    public static readonly EncounterColumn EncounterId = Get("encounter_id");
    public static readonly EncounterColumn PatientNbr = Get("patient_nbr");
    public static readonly EncounterColumn Readmitted = Get("readmitted");

    /// <summary>The columns a caller describes an encounter with: all but the two ids and the label.</summary>
    public static readonly IReadOnlyList<EncounterColumn> FeatureColumns =
        Columns.Where(c => c.Kind is not (ColumnKind.Identifier or ColumnKind.Label)).ToArray();

    /// <summary>The column with this source header, or <c>null</c>.</summary>
    public static EncounterColumn? Find(string sourceName) => BySourceName.GetValueOrDefault(sourceName);

    public static EncounterColumn Get(string sourceName) =>
        Find(sourceName) ?? throw new ArgumentException($"'{sourceName}' is not a column of the dataset.", nameof(sourceName));

    private static EncounterColumn[] Build(IReadOnlyList<(string Name, ColumnKind Kind)> columns) =>
        columns.Select((c, i) => new EncounterColumn(c.Name, c.Name.ToLowerInvariant().Replace('-', '_'), c.Kind, i)).ToArray();
}
