using System.Net.Http.Json;
using Diabetes.Core.Data;
using Diabetes.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>
/// The ingest service in memory, configured only through its documented keys, against fresh databases
/// (rawdata, cleandata) on the real PostgreSQL and a fresh bucket on the real S3 server.
/// </summary>
public sealed class IngestApp : ServiceFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    private IngestApp(Dictionary<string, string?> settings) => _settings = settings;

    public string RawConnectionString => _settings["ConnectionStrings:rawdata"]!;

    public string CleanConnectionString => _settings["ConnectionStrings:cleandata"]!;

    public static async Task<IngestApp> StartAsync(
        string source, int batchSize = 15_000, string? minioConnectionString = null, string? rawConnectionString = null,
        string? cleanConnectionString = null, string? workDirectory = null) =>
        new(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rawdata"] = rawConnectionString ?? await TestServers.CreateDatabaseAsync("rawdata"),
            ["ConnectionStrings:cleandata"] = cleanConnectionString ?? await TestServers.CreateDatabaseAsync("cleandata"),
            ["ConnectionStrings:minio"] = minioConnectionString ?? TestServers.S3ConnectionString,
            ["Dataset:Source"] = source,
            ["Ingest:BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Each instance has a disk of its own, as each pod has: a start-up sweeps the files of ended processes.
            ["Ingest:WorkDirectory"] = workDirectory ?? Directory.CreateTempSubdirectory("diabetes-ingest-").FullName,
        });

    /// <summary>Its <c>Ingest:WorkDirectory</c>.</summary>
    public string WorkDirectory => _settings["Ingest:WorkDirectory"]!;

    /// <summary>Another instance on the same databases, bucket and disk, configured with another source.</summary>
    public IngestApp WithSource(string source) => new(new Dictionary<string, string?>(_settings) { ["Dataset:Source"] = source });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public async Task<T> PostAsync<T>(string path)
    {
        using var response = await CreateClient().PostAsync(path, content: null);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    public async Task<T> GetAsync<T>(string path) => (await CreateClient().GetFromJsonAsync<T>(path))!;

    /// <summary>Posts and expects a ProblemDetails answer with this status.</summary>
    public async Task<ProblemDetails> PostExpectingProblemAsync(string path, int status)
    {
        using var response = await CreateClient().PostAsync(path, content: null);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
    }

    public Task<T> RawScalarAsync<T>(string sql) => ScalarAsync<T>(RawConnectionString, sql);

    public Task<T> CleanScalarAsync<T>(string sql) => ScalarAsync<T>(CleanConnectionString, sql);

    public Task<List<T>> RawColumnAsync<T>(string sql) => ColumnAsync<T>(RawConnectionString, sql);

    public Task<List<T>> CleanColumnAsync<T>(string sql) => ColumnAsync<T>(CleanConnectionString, sql);

    public Task<int> RawExecuteAsync(string sql) => ExecuteAsync(RawConnectionString, sql);

    /// <summary>Row counts of every table the service writes, to show that a call changed nothing.</summary>
    public async Task<string> SnapshotAsync()
    {
        var raw = await RawScalarAsync<string>("""
            SELECT concat_ws(' ', (SELECT count(*) FROM dataset_sources), (SELECT count(*) FROM ingest_batches),
                (SELECT count(*) FROM raw_encounters), (SELECT count(*) FROM rejected_rows),
                (SELECT max(loaded_at) FROM raw_encounters))
            """);
        if (!await CleanScalarAsync<bool>("SELECT to_regclass('clean_encounters') IS NOT NULL"))
        {
            return $"raw: {raw}; clean: no tables yet";
        }

        var clean = await CleanScalarAsync<string>("""
            SELECT concat_ws(' ', (SELECT count(*) FROM clean_encounters), (SELECT count(*) FROM excluded_encounters),
                (SELECT count(*) FROM cleaned_batches), (SELECT max(cleaned_at) FROM clean_encounters))
            """);
        return $"raw: {raw}; clean: {clean}";
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await connection.ScalarAsync<T>(sql, CancellationToken.None);
    }

    private static async Task<List<T>> ColumnAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    private static async Task<int> ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await connection.ExecuteAsync(sql, CancellationToken.None);
    }
}
