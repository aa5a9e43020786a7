using Diabetes.Core.Data;
using Diabetes.Testing;
using Npgsql;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// A fresh database for the prediction log on the test PostgreSQL, what the tests read from it, and a switch that makes
/// it refuse every connection (as a server that is down does) and accept them again.
/// </summary>
public sealed class MonitoringDatabase
{
    private MonitoringDatabase(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    public string Name => new NpgsqlConnectionStringBuilder(ConnectionString).Database!;

    public static async Task<MonitoringDatabase> CreateAsync() => new(await TestServers.CreateDatabaseAsync("monitoring"));

    /// <summary>The inference API's keys for a log in this database, and <paramref name="more"/>.</summary>
    public IReadOnlyDictionary<string, string?> Settings(params (string Key, string Value)[] more) =>
        new Dictionary<string, string?>(more.Select(m => KeyValuePair.Create(m.Key, (string?)m.Value)))
        {
            ["ConnectionStrings:monitoring"] = ConnectionString,
        };

    /// <summary>A connection of its own, unpooled: one the server ended is not handed out again.</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<long> CountAsync(string table = "predictions")
    {
        await using var connection = await OpenAsync();
        return await connection.ScalarAsync<long>($"SELECT count(*) FROM {table}", CancellationToken.None);
    }

    /// <summary>The outcomes on record, by prediction id.</summary>
    public async Task<IReadOnlyDictionary<Guid, bool>> OutcomesAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand("SELECT prediction_id, readmitted_within_30_days FROM outcomes");
        await using var reader = await command.ExecuteReaderAsync();
        var outcomes = new Dictionary<Guid, bool>();
        while (await reader.ReadAsync())
        {
            outcomes[reader.GetGuid(0)] = reader.GetBoolean(1);
        }

        return outcomes;
    }

    /// <summary>The partitions of <paramref name="table"/> (<c>predictions</c> or <c>outcomes</c>), by name.</summary>
    public async Task<IReadOnlyList<string>> PartitionsAsync(string table = "predictions")
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(@table) ORDER BY 1", ("table", table));
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>Refuses every new connection and ends the open ones (<paramref name="reachable"/> false), or accepts them again.</summary>
    public async Task SetReachableAsync(bool reachable)
    {
        await using var admin = NpgsqlDataSource.Create(TestServers.PostgresAdminConnectionString);
        await using var connection = await admin.OpenConnectionAsync();
        await connection.ExecuteAsync($"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS {reachable}", CancellationToken.None);
        if (!reachable)
        {
            await connection.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name", CancellationToken.None, ("name", Name));
        }
    }
}
