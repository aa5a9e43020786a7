using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.InferenceApi.Data;

/// <summary>
/// The decisions' rows of <c>drift_counts</c> indexed by time, for the traffic query (predictions per hour and version):
/// across every version of a window it reads these two rows a bucket, where the key, version first, or the time index
/// would take it through some 700 rows a bucket of every version.
/// </summary>
[DbContext(typeof(MonitoringDataContext))]
[Migration("20261221000001_DecisionCountsIndex")]
public sealed class DecisionCountsIndex : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
        CREATE INDEX drift_counts_decisions ON drift_counts (model_name, bucket_start) WHERE input = 'Decision';
        """);
}
