using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.InferenceApi.Data;

/// <summary>
/// The prediction log: one row per answered prediction, the model inputs as the model read them (one typed column per
/// input, which the drift query reads input by input), partitioned by day on <c>predicted_at</c> so that retention drops
/// whole days. The partitions themselves are made and dropped by <see cref="Monitoring.PredictionPartitions"/>.
/// <para>
/// A partitioned table's key must hold its partition key, hence (<c>prediction_id</c>, <c>predicted_at</c>). The id
/// is a UUID version 7, which carries its own millisecond, and <c>predicted_at</c> is that millisecond: a row is found
/// from its id alone by computing the time from it, which names one partition and one probe of its key.
/// </para>
/// </summary>
[DbContext(typeof(MonitoringDataContext))]
[Migration("20261207000001_PredictionsTable")]
public sealed class PredictionsTable : Migration
{
    // Written out here, never taken from today's code: an applied migration must not change when the code does.
    private static readonly string[] TextInputs =
    [
        "race", "gender", "admission_type", "discharge_disposition", "admission_source", "payer_code", "medical_specialty",
        "diag_1_group", "diag_2_group", "diag_3_group", "diag_1_code", "diag_2_code", "diag_3_code", "max_glu_serum", "a1c_result",
        "change", "diabetes_med",
        // The kept medications.
        "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide", "glipizide", "glyburide",
        "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose", "miglitol", "troglitazone", "tolazamide", "insulin",
        "glyburide_metformin", "glipizide_metformin", "glimepiride_pioglitazone", "metformin_rosiglitazone", "metformin_pioglitazone",
    ];

    private static readonly string[] RealInputs =
    [
        "age_years", "time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient",
        "number_emergency", "number_inpatient", "number_diagnoses", "total_prior_visits", "active_medications", "changed_medications",
    ];

    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql($"""
        CREATE TABLE predictions (
            prediction_id uuid NOT NULL,
            predicted_at timestamptz NOT NULL,
            model_name text NOT NULL,
            model_version integer NOT NULL,
            probability double precision NOT NULL,
            threshold double precision NOT NULL,
            predicted_readmitted boolean NOT NULL,
            {string.Join(",\n    ", TextInputs.Select(column => $"{column} text NOT NULL"))},
            {string.Join(",\n    ", RealInputs.Select(column => $"{column} real NOT NULL"))},
            PRIMARY KEY (prediction_id, predicted_at)
        ) PARTITION BY RANGE (predicted_at);
        """);
}
