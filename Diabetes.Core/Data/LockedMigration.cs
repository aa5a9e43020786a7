using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Diabetes.Core.Data;

/// <summary>
/// Applies a context's pending EF Core migrations under a session lock of the database. EF Core locks its history
/// table, but instances that first create that table race each other in PostgreSQL: the lock serialises the whole
/// step, history table included. Each service that owns tables takes a key of its own, so that their migrations need
/// not wait for each other.
/// </summary>
public static class LockedMigration
{
    /// <summary>Migrates, and answers the migrations it applied (none when another instance was first).</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(DatabaseFacade database, long lockKey, CancellationToken cancellationToken)
    {
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            await database.ExecuteSqlAsync($"SELECT pg_advisory_lock({lockKey})", cancellationToken);
            // The history table first: asked of a database without it, EF Core logs its failed query as an error
            // (dotnet/efcore#37328), which a new database would show at every first start.
            await database.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            var pending = (await database.GetPendingMigrationsAsync(cancellationToken)).ToArray();
            await database.MigrateAsync(cancellationToken);
            return pending;
        }
        finally
        {
            // Explicitly: a pooled connection's session outlives its closing. A broken connection took the lock with it.
            if (database.GetDbConnection().State == ConnectionState.Open)
            {
                await database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({lockKey})", CancellationToken.None);
            }

            await database.CloseConnectionAsync();
        }
    }
}
