using System.Runtime.ExceptionServices;
using Diabetes.Core.Data;
using Diabetes.Core.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Diabetes.Trainer.Data;

/// <summary>
/// Brings the trainer's tables up to the newest migration once per process: at start-up (retried while PostgreSQL does
/// not answer) and before first use, whichever comes first, under a session lock of the database, so that trainers
/// starting together apply each migration once. The database is CLEAN DATA's, which the ingest service creates: until
/// it exists this fails and is tried again, and <c>/health</c> says why.
/// </summary>
public sealed class TrainerSchema(IServiceScopeFactory scopes, ILogger<TrainerSchema> logger) : IHealthCheck
{
    // Not the ingest service's key: its migrations and these touch different tables and need not wait for each other.
    private const long MigrationLock = 0x5452_4149_4E45_52; // "TRAINER"

    private volatile bool _migrated;

    /// <summary>
    /// Migrates unless this process did already. Callers that come together each take the lock in turn, and the later
    /// ones find nothing left to apply.
    /// </summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return;
        }

        try
        {
            await MigrateAsync(cancellationToken);
            _migrated = true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // EF Core wraps PostgreSQL's faults in one of its own: callers meet PostgreSQL's, as from any other query.
            ExceptionDispatchInfo.Throw(exception is InvalidOperationException { InnerException: NpgsqlException npgsql } ? npgsql : exception);
        }
    }

    /// <summary>Ready once migrated: a probe before that migrates, or says why it could not.</summary>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await EnsureCreatedAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus,
                $"The job lease table in CLEAN DATA's PostgreSQL is not ready, so no training job can start: {exception.Message}", exception);
        }
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<TrainerDataContext>().Database;
        var applied = await LockedMigration.ApplyAsync(database, MigrationLock, cancellationToken);
        if (applied.Count > 0)
        {
            logger.LogInformation("Applied the trainer's migrations {Migrations}", string.Join(", ", applied));
        }
    }
}

/// <summary>Migrates the trainer's tables at start-up, trying again while PostgreSQL does not answer.</summary>
public sealed class TrainerSchemaStartUp(TrainerSchema schema, ILogger<TrainerSchemaStartUp> logger) : StartUpTask(logger)
{
    protected override string Description => "migrate the job lease table in CLEAN DATA's PostgreSQL";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => schema.EnsureCreatedAsync(cancellationToken);
}
