using System.Runtime.ExceptionServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Diabetes.Core.Data;

/// <summary>
/// Brings a database up to the newest migration of its context, once per process: at start-up (retried while
/// PostgreSQL is not up, without holding the service back) and before first use, whichever comes first, under a
/// session lock of the database, so two instances starting together apply each migration once. A missing database is
/// created first, when the connection's user may.
/// </summary>
public sealed class DatabaseSchema<TContext>(IServiceScopeFactory scopes, ILogger<DatabaseSchema<TContext>> logger) where TContext : DbContext
{
    private const long MigrationLock = 0x4D49_4752_4154_45; // "MIGRATE"

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _migrated;

    /// <exception cref="MissingDatabaseException">The database does not exist and the connection's user may not create it.</exception>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_migrated)
            {
                await MigrateAsync(cancellationToken);
                _migrated = true;
            }
        }
        catch (InvalidOperationException exception) when (exception.InnerException is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            // EF Core wraps PostgreSQL's faults in one of its own ("likely due to a transient failure"): callers meet
            // PostgreSQL's, as from any other query.
            ExceptionDispatchInfo.Throw(exception.InnerException);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<TContext>().Database;
        await CreateIfMissingAsync(database, cancellationToken);
        var applied = await LockedMigration.ApplyAsync(database, MigrationLock, cancellationToken);
        if (applied.Count > 0)
        {
            logger.LogInformation("Applied the migrations {Migrations} of {Context}", string.Join(", ", applied), typeof(TContext).Name);
        }
    }

    /// <summary>
    /// The database itself, when the connection's user may create it; two instances may race to it. A user who cannot
    /// gets a <see cref="MissingDatabaseException"/> naming the database: creating it mends the service without a restart.
    /// </summary>
    private async Task CreateIfMissingAsync(DatabaseFacade database, CancellationToken cancellationToken)
    {
        var creator = database.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(cancellationToken))
        {
            return;
        }

        var connection = new NpgsqlConnectionStringBuilder(database.GetConnectionString());
        try
        {
            await creator.CreateAsync(cancellationToken);
            logger.LogInformation("Created the database {Database} of {Context}", connection.Database, typeof(TContext).Name);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another instance created it first.
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.InsufficientPrivilege
            or PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            // Refused the right, the maintenance database, or a connection to it: PostgreSQL's words say which.
            var user = string.IsNullOrEmpty(connection.Username) ? "the connection's user" : $"the user '{connection.Username}'";
            throw new MissingDatabaseException(
                $"The database '{connection.Database}' does not exist and {user} could not create it ({exception.MessageText}): " +
                "create it, or let that user create databases.", exception);
        }
    }
}

/// <summary>A database a service needs does not exist, and the service may not create it.</summary>
public sealed class MissingDatabaseException(string message, Exception inner) : Exception(message, inner);
