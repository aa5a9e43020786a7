using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.Trainer.Data;

/// <summary>
/// Who runs each training job (<see cref="Training.JobLeases"/>): the holder, until when, when the job ended, and the
/// holder it was taken over from, if it was.
/// </summary>
[DbContext(typeof(TrainerDataContext))]
[Migration("20261210000001_TrainingJobLeases")]
public sealed class TrainingJobLeases : Migration
{
    // Written out, never built from today's code: an applied migration must not change when the code does.
    protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
        CREATE TABLE training_job_leases (
            job_id text PRIMARY KEY,
            owner text NOT NULL,
            acquired_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz,
            taken_over_from text
        );
        CREATE INDEX training_job_leases_open ON training_job_leases (expires_at) WHERE ended_at IS NULL;
        """);
}
