using System.Collections.Concurrent;
using System.Globalization;
using Diabetes.Core.Data;
using Npgsql;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// The day partitions of the prediction log (UTC days): <c>predictions</c> and <c>outcomes</c> have a partition each
/// for every day (<c>predictions_yyyyMMdd</c>, <c>outcomes_yyyyMMdd</c>), added together and dropped together, so that
/// a day's outcomes go with its predictions. Neither step takes a lock that stops the writers or the readers of the log:
/// <list type="bullet">
/// <item>a day is added as a table of its own, then attached (<c>ATTACH PARTITION</c> takes only a SHARE UPDATE
/// EXCLUSIVE lock of the parent, where <c>CREATE TABLE … PARTITION OF</c> would take an exclusive one);</item>
/// <item>an expired day is detached <c>CONCURRENTLY</c> (PostgreSQL 14 and later), then dropped as a table of its
/// own; a detach that was cut short is finished, and a day left detached is dropped. Predictions go first: an outcome
/// is recorded only against a prediction it finds, so none is added to a day whose outcomes are going.</item>
/// </list>
/// Service instances add days one at a time (a transaction lock) and only one of them drops (a session lock it tries
/// for: the others leave it).
/// </summary>
public sealed class PredictionPartitions(NpgsqlDataSource dataSource)
{
    private const long AddLock = 0x5052_4544_4144_44; // "PREDADD"
    private const long DropLock = 0x5052_4544_4452_4F; // "PREDDRO"

    /// <summary>The tables partitioned by day, in the order their days are dropped.</summary>
    private static readonly string[] Tables = [PredictionTable.Name, OutcomeStore.TableName];

    /// <summary>The days this process knows partitions exist for; the writer asks only about others.</summary>
    private readonly ConcurrentDictionary<DateOnly, bool> _known = new();

    public static DateOnly DayOf(DateTimeOffset time) => DateOnly.FromDateTime(time.UtcDateTime);

    /// <summary>The partition of <paramref name="table"/> (by default <c>predictions</c>) that holds <paramref name="day"/>.</summary>
    public static string NameOf(DateOnly day, string table = PredictionTable.Name) => $"{table}_{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}";

    /// <summary>Adds the partitions of <paramref name="days"/> that do not exist, of both tables.</summary>
    public async Task EnsureAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        var unknown = days.Where(day => !_known.ContainsKey(day)).Distinct().ToArray();
        if (unknown.Length == 0)
        {
            return;
        }

        await dataSource.InLockedTransactionAsync(AddLock, async connection =>
        {
            foreach (var table in Tables)
            {
                var attached = (await DayTablesAsync(connection, table, cancellationToken)).Where(t => t.State != "detached").Select(t => t.Name).ToHashSet();
                foreach (var day in unknown.Where(day => !attached.Contains(NameOf(day, table))))
                {
                    await connection.ExecuteAsync($"""
                        CREATE TABLE IF NOT EXISTS {NameOf(day, table)} (LIKE {table});
                        ALTER TABLE {table} ATTACH PARTITION {NameOf(day, table)} FOR VALUES FROM ('{Bound(day)}') TO ('{Bound(day.AddDays(1))}');
                        """, cancellationToken);
                }
            }

            return true;
        }, cancellationToken);

        foreach (var day in unknown)
        {
            _known[day] = true;
        }
    }

    /// <summary>Forgets which partitions exist (one may have been dropped by hand): the next write asks again.</summary>
    public void Forget() => _known.Clear();

    /// <summary>
    /// Drops the partitions of the days before <paramref name="oldestKept"/>, of both tables, and answers their days;
    /// none when another instance is dropping.
    /// </summary>
    public async Task<IReadOnlyList<DateOnly>> DropBeforeAsync(DateOnly oldestKept, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await connection.ScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", cancellationToken, ("key", DropLock)))
        {
            return [];
        }

        try
        {
            var dropped = new SortedSet<DateOnly>();
            foreach (var table in Tables)
            {
                foreach (var (name, state) in await DayTablesAsync(connection, table, cancellationToken))
                {
                    var day = DateOnly.ParseExact(name[(table.Length + 1)..], "yyyyMMdd", CultureInfo.InvariantCulture);
                    if (day >= oldestKept)
                    {
                        continue;
                    }

                    // One statement a command: DETACH … CONCURRENTLY cannot run inside a transaction block.
                    if (state != "detached")
                    {
                        await connection.ExecuteAsync(
                            $"ALTER TABLE {table} DETACH PARTITION {name} {(state == "pending" ? "FINALIZE" : "CONCURRENTLY")}", cancellationToken);
                    }

                    await connection.ExecuteAsync($"DROP TABLE {name}", cancellationToken);
                    _known.TryRemove(day, out _);
                    dropped.Add(day);
                }
            }

            return [.. dropped];
        }
        finally
        {
            // Explicitly: a pooled connection's session outlives its closing. A broken connection took the lock with it.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", DropLock));
            }
        }
    }

    /// <summary>
    /// Every day table of <paramref name="table"/>, and its state: attached, pending (a detach cut short) or detached (a
    /// drop that did not follow).
    /// </summary>
    private static async Task<IReadOnlyList<(string Name, string State)>> DayTablesAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand($$"""
            SELECT c.relname, CASE WHEN i.inhrelid IS NULL THEN 'detached' WHEN i.inhdetachpending THEN 'pending' ELSE 'attached' END
            FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
            WHERE c.relkind = 'r' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
              AND c.relname ~ '^{{table}}_[0-9]{8}$'
            ORDER BY c.relname
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tables = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tables.Add((reader.GetString(0), reader.GetString(1)));
        }

        return tables;
    }

    /// <summary>A day's first instant as a literal, in UTC whatever the session's time zone.</summary>
    private static string Bound(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " 00:00:00+00";
}
