using Diabetes.Core.Data;
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
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql($"""
        {CleanEncounterTable.CreateSql}
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
