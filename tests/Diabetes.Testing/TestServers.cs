using Diabetes.Core.Data;
using Diabetes.Core.Storage;
using Minio;
using Npgsql;

namespace Diabetes.Testing;

/// <summary>
/// The real servers the tests run against, started by <c>tests/run.sh</c> (or <c>.ci/run</c>), which exports
/// <c>DIABETES_TEST_POSTGRES</c> (a superuser's connection string) and <c>DIABETES_TEST_S3</c> (a minio connection string).
/// </summary>
public static class TestServers
{
    public const string PostgresVariable = "DIABETES_TEST_POSTGRES";
    public const string S3Variable = "DIABETES_TEST_S3";

    public static string PostgresAdminConnectionString => Required(PostgresVariable);

    public static string S3ConnectionString => Required(S3Variable);

    public static IMinioClient CreateMinioClient() => MinioConnection.Parse(S3ConnectionString).CreateClient();

    /// <summary>Creates an empty database with a unique name and answers its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using var dataSource = NpgsqlDataSource.Create(PostgresAdminConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync($"CREATE DATABASE \"{name}\"", CancellationToken.None);
        return new NpgsqlConnectionStringBuilder(PostgresAdminConnectionString) { Database = name }.ConnectionString;
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set. Run the tests with tests/run.sh, which starts PostgreSQL and an S3 server and sets it.");
}
