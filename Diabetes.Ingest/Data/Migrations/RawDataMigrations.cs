using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.Ingest.Data.Migrations;

/// <summary>
/// The tables as the service created them before migrations existed. IF NOT EXISTS throughout: on a database made by
/// that code it changes nothing and is recorded as applied, so such a database upgrades in place.
/// </summary>
[DbContext(typeof(RawDataContext))]
[Migration("20261203000001_RawDataBaseline")]
public sealed class RawDataBaseline : Migration
{
    // Written out, never built from today's code: an applied migration must not change when the code does.
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
        CREATE TABLE IF NOT EXISTS dataset_sources (
            source_sha256 text PRIMARY KEY,
            location text NOT NULL,
            file_name text NOT NULL,
            object_key text NOT NULL,
            csv_entry text NOT NULL,
            size_bytes bigint NOT NULL,
            total_rows integer NOT NULL,
            rejected_rows integer NOT NULL,
            train_rows integer NOT NULL,
            train_batches integer NOT NULL,
            batch_size integer NOT NULL,
            validation_rows integer NOT NULL,
            test_rows integer NOT NULL,
            prepared_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS ingest_batches (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_sha256 text NOT NULL REFERENCES dataset_sources,
            split text NOT NULL CHECK (split IN ('train', 'validation', 'test')),
            batch_number integer CHECK ((split = 'train') = (batch_number IS NOT NULL)),
            rows integer NOT NULL,
            first_encounter_id bigint NOT NULL,
            last_encounter_id bigint NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ingest_batches_once ON ingest_batches (source_sha256, split, coalesce(batch_number, 0));
        CREATE TABLE IF NOT EXISTS raw_encounters (
            encounter_id bigint PRIMARY KEY,
            patient_nbr bigint NOT NULL,
            race text NOT NULL,
            gender text NOT NULL,
            age text NOT NULL,
            weight text NOT NULL,
            admission_type_id text NOT NULL,
            discharge_disposition_id text NOT NULL,
            admission_source_id text NOT NULL,
            time_in_hospital text NOT NULL,
            payer_code text NOT NULL,
            medical_specialty text NOT NULL,
            num_lab_procedures text NOT NULL,
            num_procedures text NOT NULL,
            num_medications text NOT NULL,
            number_outpatient text NOT NULL,
            number_emergency text NOT NULL,
            number_inpatient text NOT NULL,
            diag_1 text NOT NULL,
            diag_2 text NOT NULL,
            diag_3 text NOT NULL,
            number_diagnoses text NOT NULL,
            max_glu_serum text NOT NULL,
            a1cresult text NOT NULL,
            metformin text NOT NULL,
            repaglinide text NOT NULL,
            nateglinide text NOT NULL,
            chlorpropamide text NOT NULL,
            glimepiride text NOT NULL,
            acetohexamide text NOT NULL,
            glipizide text NOT NULL,
            glyburide text NOT NULL,
            tolbutamide text NOT NULL,
            pioglitazone text NOT NULL,
            rosiglitazone text NOT NULL,
            acarbose text NOT NULL,
            miglitol text NOT NULL,
            troglitazone text NOT NULL,
            tolazamide text NOT NULL,
            examide text NOT NULL,
            citoglipton text NOT NULL,
            insulin text NOT NULL,
            glyburide_metformin text NOT NULL,
            glipizide_metformin text NOT NULL,
            glimepiride_pioglitazone text NOT NULL,
            metformin_rosiglitazone text NOT NULL,
            metformin_pioglitazone text NOT NULL,
            change text NOT NULL,
            diabetesmed text NOT NULL,
            readmitted text NOT NULL,
            split text NOT NULL CHECK (split IN ('train', 'validation', 'test')),
            batch_number integer,
            source_line bigint NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS raw_encounters_split_batch ON raw_encounters (split, batch_number);
        CREATE TABLE IF NOT EXISTS rejected_rows (
            source_sha256 text NOT NULL REFERENCES dataset_sources,
            line_number bigint NOT NULL,
            reason text NOT NULL,
            content text NOT NULL,
            rejected_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (source_sha256, line_number)
        );
        """);
}

/// <summary>How long each load took, in the ledger (NULL for loads made before this column).</summary>
[DbContext(typeof(RawDataContext))]
[Migration("20261203000002_LedgerLoadDuration")]
public sealed class LedgerLoadDuration : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("ALTER TABLE ingest_batches ADD COLUMN IF NOT EXISTS load_milliseconds integer;");
}
