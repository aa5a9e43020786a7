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

    public async Task<long> CountAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ScalarAsync<long>("SELECT count(*) FROM predictions", CancellationToken.None);
    }

    /// <summary>The partitions of <c>predictions</c>, by name.</summary>
    public async Task<IReadOnlyList<string>> PartitionsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('predictions') ORDER BY 1");
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
