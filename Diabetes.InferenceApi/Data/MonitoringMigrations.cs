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

/// <summary>
/// Outcomes reported against logged predictions: at most one per prediction, keyed and partitioned like
/// <c>predictions</c> (the same days, <c>outcomes_yyyyMMdd</c>), so that retention drops a day's outcomes with its
/// predictions, whole. Each row copies what live quality reads of its prediction (version, probability, decision): the
/// log never changes, and the performance query then reads outcomes alone.
/// </summary>
[DbContext(typeof(MonitoringDataContext))]
[Migration("20261214000001_OutcomesTable")]
public sealed class OutcomesTable : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
        CREATE TABLE outcomes (
            prediction_id uuid NOT NULL,
            predicted_at timestamptz NOT NULL,
            model_name text NOT NULL,
            model_version integer NOT NULL,
            probability double precision NOT NULL,
            predicted_readmitted boolean NOT NULL,
            readmitted_within_30_days boolean NOT NULL,
            recorded_at timestamptz NOT NULL,
            PRIMARY KEY (prediction_id, predicted_at)
        ) PARTITION BY RANGE (predicted_at);
        CREATE INDEX outcomes_model_version ON outcomes (model_name, model_version);

        -- The days logged already get their day of outcomes, with the same bounds.
        DO $$
        DECLARE
            day record;
        BEGIN
            FOR day IN
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bounds
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'predictions'::regclass AND NOT i.inhdetachpending
            LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF outcomes %s', 'outcomes' || substr(day.relname, length('predictions') + 1), day.bounds);
            END LOOP;
        END $$;
        """);
}
