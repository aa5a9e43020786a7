using System.Net.Http.Json;
using System.Text.Json;
using Diabetes.Testing;
using Npgsql;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>
/// The schemas are versioned EF Core migrations: a database made before they existed (Schemas/*-before-migrations.sql,
/// pg_dump of what that code created) upgrades in place with its rows kept, and instances starting together apply
/// each migration once.
/// </summary>
public class SchemaMigrationTests
{
    private static readonly string[] RawMigrations = ["20261203000001_RawDataBaseline", "20261203000002_LedgerLoadDuration"];
    private static readonly string[] CleanMigrations = ["20261203000001_CleanDataBaseline"];

    [Fact]
    public async Task ADatabaseMadeBeforeMigrationsUpgradesInPlaceWithItsRowsKept()
    {
        // Arrange: both databases as the earlier code made them, with a prepared source and a validation load
        var raw = await CreateOldDatabaseAsync("rawdata");
        var clean = await CreateOldDatabaseAsync("cleandata");
        await ExecuteAsync(raw, """
            INSERT INTO dataset_sources (source_sha256, location, file_name, object_key, csv_entry, size_bytes, total_rows, rejected_rows,
                                         train_rows, train_batches, batch_size, validation_rows, test_rows)
            VALUES ('3a17', '/data/dataset_diabetes.zip', 'dataset_diabetes.zip', 'sources/3a17.zip', 'diabetic_data.csv', 3347, 100, 0, 70, 1, 15000, 15, 15);
            INSERT INTO ingest_batches (source_sha256, split, batch_number, rows, first_encounter_id, last_encounter_id)
            VALUES ('3a17', 'validation', NULL, 15, 100, 900);
            """);
        await ExecuteAsync(clean, "INSERT INTO cleaned_batches (source_sha256, split, batch_number, cleaned_rows, excluded_rows) VALUES ('3a17', 'validation', NULL, 14, 1)");

        // Act: the service of today starts on them
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip, rawConnectionString: raw, cleanConnectionString: clean);
        var status = await app.GetAsync<JsonElement>("/api/dataset/status");

        // Assert: the rows are there, the new column too (unknown for the old load), and every migration is recorded
        Assert.Equal("3a17", status.GetProperty("source").GetProperty("sha256").GetString());
        var ledger = Assert.Single(status.GetProperty("batches").EnumerateArray());
        Assert.Equal((15, JsonValueKind.Null), (ledger.GetProperty("rows").GetInt32(), ledger.GetProperty("loadMilliseconds").ValueKind));
        Assert.Equal(1, await app.RawScalarAsync<long>(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'ingest_batches' AND column_name = 'load_milliseconds'"));
        Assert.Equal(RawMigrations, await app.RawColumnAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY 1"""));
        Assert.Equal(CleanMigrations, await app.CleanColumnAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY 1"""));
        Assert.Equal(14, await app.CleanScalarAsync<int>("SELECT cleaned_rows FROM cleaned_batches"));
    }

    [Fact]
    public async Task InstancesStartingTogetherApplyEachMigrationOnceAndANewLoadRecordsItsDuration()
    {
        // Arrange: two instances on the same fresh databases
        await using var first = await IngestApp.StartAsync(TestData.DatasetZip);
        await using var second = first.WithSource(TestData.DatasetZip);

        // Act: both start at once
        await Task.WhenAll(first.GetAsync<JsonElement>("/api/dataset/status"), second.GetAsync<JsonElement>("/api/dataset/status"));
        await first.PostAsync<JsonElement>("/api/dataset/prepare");

        // Assert
        Assert.Equal(RawMigrations, await first.RawColumnAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY 1"""));
        Assert.Equal(CleanMigrations, await first.CleanColumnAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY 1"""));
        var ledger = (await second.GetAsync<JsonElement>("/api/dataset/status")).GetProperty("batches").EnumerateArray().ToArray();
        Assert.Equal(2, ledger.Length);
        Assert.All(ledger, entry => Assert.True(entry.GetProperty("loadMilliseconds").GetInt32() >= 0));
    }

    [Fact]
    public async Task MissingDatabasesAreCreatedAndMigrated()
    {
        // Arrange: connection strings naming databases that do not exist yet
        string Missing(string prefix) => new NpgsqlConnectionStringBuilder(TestServers.PostgresAdminConnectionString)
            { Database = $"{prefix}_{Guid.NewGuid():N}" }.ConnectionString;
        await using var app = await IngestApp.StartAsync(TestData.DatasetZip, rawConnectionString: Missing("rawdata"), cleanConnectionString: Missing("cleandata"));

        // Act
        await app.GetAsync<JsonElement>("/api/dataset/status");

        // Assert
        Assert.Equal(RawMigrations, await app.RawColumnAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY 1"""));
        Assert.Equal(CleanMigrations, await app.CleanColumnAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" ORDER BY 1"""));
    }

    [Fact]
    public async Task AMissingDatabaseItsUserMayNotCreateIsA503NamingIt()
    {
        // Arrange: a user without CREATEDB, and a database that does not exist
        var user = $"reader_{Guid.NewGuid():N}"[..20];
        var password = Guid.NewGuid().ToString("N");
        await AdminAsync($"CREATE ROLE {user} LOGIN PASSWORD '{password}' NOCREATEDB");
        try
        {
            var missing = new NpgsqlConnectionStringBuilder(TestServers.PostgresAdminConnectionString)
                { Username = user, Password = password, Database = $"rawdata_{Guid.NewGuid():N}" };
            await using var app = await IngestApp.StartAsync(TestData.DatasetZip, rawConnectionString: missing.ConnectionString);

            // Act
            using var response = await app.CreateClient().GetAsync("/api/dataset/status");

            // Assert
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("10", response.Headers.GetValues("Retry-After").Single());
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("A database is missing", problem.GetProperty("title").GetString());
            Assert.Contains($"'{missing.Database}' does not exist and the user '{user}' could not create it", problem.GetProperty("detail").GetString());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await AdminAsync($"DROP ROLE IF EXISTS {user}");
        }
    }

    private static async Task AdminAsync(string sql)
    {
        await using var admin = NpgsqlDataSource.Create(TestServers.PostgresAdminConnectionString);
        await admin.CreateCommand(sql).ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task AnUpgradedDatabaseHasTheSameColumnsAsAFreshOne()
    {
        // Arrange: one pair made before migrations, one pair fresh
        var oldRaw = await CreateOldDatabaseAsync("rawdata");
        var oldClean = await CreateOldDatabaseAsync("cleandata");
        await using var upgraded = await IngestApp.StartAsync(TestData.DatasetZip, rawConnectionString: oldRaw, cleanConnectionString: oldClean);
        await using var fresh = await IngestApp.StartAsync(TestData.DatasetZip);

        // Act: both migrated (the status reads both databases)
        await upgraded.GetAsync<JsonElement>("/api/dataset/status");
        await fresh.GetAsync<JsonElement>("/api/dataset/status");

        // Assert
        const string columns = """
            SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY 1
            """;
        Assert.Equal(await fresh.RawColumnAsync<string>(columns), await upgraded.RawColumnAsync<string>(columns));
        Assert.Equal(await fresh.CleanColumnAsync<string>(columns), await upgraded.CleanColumnAsync<string>(columns));
    }

    private static async Task<string> CreateOldDatabaseAsync(string name)
    {
        var connectionString = await TestServers.CreateDatabaseAsync(name);
        await ExecuteAsync(connectionString, await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Schemas", $"{name}-before-migrations.sql")));
        return connectionString;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
