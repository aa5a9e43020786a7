using Npgsql;
using NpgsqlTypes;

namespace Diabetes.Core.Data;

public static class PostgresExtensions
{
    /// <summary>
    /// Runs <paramref name="work"/> in one transaction that first takes the advisory lock <paramref name="lockKey"/>:
    /// callers with the same key run one after the other, and a failure (or a crash) commits nothing.
    /// </summary>
    public static async Task<T> InLockedTransactionAsync<T>(
        this NpgsqlDataSource dataSource, long lockKey, Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", lockKey));
        var result = await work(connection);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public static async Task<int> ExecuteAsync(
        this NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<T> ScalarAsync<T>(
        this NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand(sql, parameters);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A text field, or NULL; synchronous, for rows already in memory.</summary>
    public static void WriteText(this NpgsqlBinaryImporter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.Write(value, NpgsqlDbType.Text);
        }
    }

    /// <summary>An integer field, or NULL; synchronous, for rows already in memory.</summary>
    public static void WriteNullable(this NpgsqlBinaryImporter writer, int? value)
    {
        if (value is { } number)
        {
            writer.Write(number, NpgsqlDbType.Integer);
        }
        else
        {
            writer.WriteNull();
        }
    }

    public static NpgsqlCommand CreateCommand(this NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
