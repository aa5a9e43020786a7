using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.InferenceApi.Data;

/// <summary>
/// The prediction log counted for drift (<see cref="Monitoring.DriftCounts"/>): per model version, ten-minute bucket,
/// input and bin, how many predictions fell there. Keyed for the drift query, which reads one version's buckets of a window.
/// </summary>
[DbContext(typeof(MonitoringDataContext))]
[Migration("20261214000002_DriftCounts")]
public sealed class DriftCountsTable : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
        CREATE TABLE drift_counts (
            bucket_start timestamptz NOT NULL,
            model_name text NOT NULL,
            model_version integer NOT NULL,
            input text NOT NULL,
            bin smallint NOT NULL,
            predictions bigint NOT NULL,
            PRIMARY KEY (model_name, model_version, bucket_start, input, bin)
        );
        -- For retention, which deletes by time across versions.
        CREATE INDEX drift_counts_bucket_start ON drift_counts (bucket_start);
        """);
}
