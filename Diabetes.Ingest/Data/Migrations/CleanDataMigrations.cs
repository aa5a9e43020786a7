using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.Ingest.Data.Migrations;

/// <summary>
/// CLEAN DATA's tables as the service created them before migrations existed (IF NOT EXISTS throughout, so a
/// database made by that code upgrades in place).
/// </summary>
[DbContext(typeof(CleanDataContext))]
[Migration("20261203000001_CleanDataBaseline")]
public sealed class CleanDataBaseline : Migration
{
    // Written out, never built from today's code: an applied migration must not change when the code does.
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
        CREATE TABLE IF NOT EXISTS clean_encounters (
            encounter_id bigint PRIMARY KEY,
            patient_nbr bigint NOT NULL,
            split text NOT NULL CHECK (split IN ('train', 'validation', 'test')),
            batch_number integer,
            source_sha256 text NOT NULL,
            race text,
            gender text,
            age_years integer NOT NULL,
            admission_type_id integer NOT NULL,
            discharge_disposition_id integer NOT NULL,
            admission_source_id integer NOT NULL,
            time_in_hospital integer NOT NULL,
            payer_code text,
            medical_specialty text,
            num_lab_procedures integer NOT NULL,
            num_procedures integer NOT NULL,
            num_medications integer NOT NULL,
            number_outpatient integer NOT NULL,
            number_emergency integer NOT NULL,
            number_inpatient integer NOT NULL,
            diag_1 text,
            diag_2 text,
            diag_3 text,
            diag_1_group text NOT NULL,
            diag_2_group text NOT NULL,
            diag_3_group text NOT NULL,
            number_diagnoses integer NOT NULL,
            max_glu_serum text NOT NULL,
            a1c_result text NOT NULL,
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
            insulin text NOT NULL,
            glyburide_metformin text NOT NULL,
            glipizide_metformin text NOT NULL,
            glimepiride_pioglitazone text NOT NULL,
            metformin_rosiglitazone text NOT NULL,
            metformin_pioglitazone text NOT NULL,
            change text NOT NULL,
            diabetes_med text NOT NULL,
            total_prior_visits integer NOT NULL,
            active_medications integer NOT NULL,
            changed_medications integer NOT NULL,
            readmitted_within_30_days boolean,
            cleaned_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS clean_encounters_split_batch ON clean_encounters (split, batch_number);
        CREATE TABLE IF NOT EXISTS excluded_encounters (
            encounter_id bigint PRIMARY KEY,
            split text NOT NULL,
            batch_number integer,
            reason text NOT NULL,
            detail text NOT NULL,
            excluded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS cleaned_batches (
            source_sha256 text NOT NULL,
            split text NOT NULL,
            batch_number integer,
            cleaned_rows integer NOT NULL,
            excluded_rows integer NOT NULL,
            cleaned_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX IF NOT EXISTS cleaned_batches_once ON cleaned_batches (source_sha256, split, coalesce(batch_number, 0));
        """);
}
