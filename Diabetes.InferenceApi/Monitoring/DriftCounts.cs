using Diabetes.Core.Data;
using Diabetes.Core.Monitoring;
using Npgsql;
using NpgsqlTypes;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// The prediction log counted for drift as it is written: per model version and ten minutes, how many predictions fell
/// in each bin of each input of the version's reference profile (<see cref="ReferenceProfile"/>), of its probability
/// (<see cref="ScoreInput"/>) and of its decision (<see cref="DecisionInput"/>: 1 predicted readmitted, 0 not). A drift
/// query then sums a few thousand counts instead of reading every logged row, so it answers in milliseconds however many
/// predictions its window holds; its window is whole buckets.
/// </summary>
public static class DriftCounts
{
    public const string Table = "drift_counts";
    public const string ScoreInput = "Score";
    public const string DecisionInput = "Decision";

    public static readonly TimeSpan Bucket = TimeSpan.FromMinutes(10);

    /// <summary>One count: the predictions of a version in one bucket that fell in one bin of one input.</summary>
    public sealed record Count(DateTimeOffset BucketStart, string ModelName, int ModelVersion, string Input, short Bin, long Predictions);

    public static DateTimeOffset BucketOf(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % Bucket.Ticks, TimeSpan.Zero);

    /// <summary>The first bucket that starts at or after <paramref name="at"/>.</summary>
    public static DateTimeOffset BucketAtOrAfter(DateTimeOffset at) =>
        BucketOf(at) == at ? at : BucketOf(at) + Bucket;

    /// <summary>The counts of a batch of logged predictions.</summary>
    public static IReadOnlyList<Count> Tally(IEnumerable<LoggedPrediction> predictions)
    {
        var counts = new Dictionary<(DateTimeOffset, string, int, string, short), long>();
        void Add((DateTimeOffset, string, int, string, short) key) => counts[key] = counts.GetValueOrDefault(key) + 1;
        foreach (var prediction in predictions)
        {
            var bucket = BucketOf(prediction.At);
            var version = int.Parse(prediction.ModelVersion, System.Globalization.CultureInfo.InvariantCulture);
            Add((bucket, prediction.ModelName, version, DecisionInput, (short)(prediction.PredictedReadmitted ? 1 : 0)));
            if (prediction.Reference is not { } reference)
            {
                continue;
            }

            var bins = reference.BinsOf(prediction.Input);
            for (var i = 0; i < bins.Length; i++)
            {
                if (bins[i] >= 0)
                {
                    Add((bucket, prediction.ModelName, version, reference.Inputs[i].Input, (short)bins[i]));
                }
            }

            Add((bucket, prediction.ModelName, version, ScoreInput, (short)reference.Score.BinOf((float)prediction.Probability)));
        }

        return counts.Select(c => new Count(c.Key.Item1, c.Key.Item2, c.Key.Item3, c.Key.Item4, c.Key.Item5, c.Value)).ToArray();
    }

    /// <summary>Adds counts to those already there, in one statement.</summary>
    public static Task AddAsync(NpgsqlConnection connection, IReadOnlyList<Count> counts, CancellationToken cancellationToken) =>
        connection.ExecuteAsync($"""
            INSERT INTO {Table} (bucket_start, model_name, model_version, input, bin, predictions)
            SELECT * FROM unnest(@buckets, @names, @versions, @inputs, @bins, @predictions) AS c(b, n, v, i, bin, p)
            -- In key order: writers of other instances then lock shared rows in the same order, and never deadlock.
            ORDER BY n, v, b, i, bin
            ON CONFLICT (model_name, model_version, bucket_start, input, bin)
            DO UPDATE SET predictions = {Table}.predictions + excluded.predictions
            """, cancellationToken,
            ("buckets", counts.Select(c => c.BucketStart).ToArray()), ("names", counts.Select(c => c.ModelName).ToArray()),
            ("versions", counts.Select(c => c.ModelVersion).ToArray()), ("inputs", counts.Select(c => c.Input).ToArray()),
            ("bins", counts.Select(c => c.Bin).ToArray()), ("predictions", counts.Select(c => c.Predictions).ToArray()));

    /// <summary>Per input and bin, the predictions of a version in the buckets that start in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static async Task<IReadOnlyDictionary<string, Dictionary<int, long>>> ReadAsync(
        NpgsqlDataSource dataSource, string modelName, int modelVersion, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT input, bin, sum(predictions)::bigint FROM {Table}
            WHERE model_name = @name AND model_version = @version AND bucket_start >= @from AND bucket_start < @to
            GROUP BY input, bin
            """);
        command.Parameters.AddWithValue("name", modelName);
        command.Parameters.AddWithValue("version", modelVersion);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        var counts = new Dictionary<string, Dictionary<int, long>>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var input = reader.GetString(0);
            if (!counts.TryGetValue(input, out var bins))
            {
                counts[input] = bins = [];
            }

            bins[reader.GetInt16(1)] = reader.GetInt64(2);
        }

        return counts;
    }

    /// <summary>Deletes the counts of buckets before <paramref name="cut"/>, as retention drops the logged days.</summary>
    public static async Task<int> DeleteBeforeAsync(NpgsqlDataSource dataSource, DateTimeOffset cut, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync($"DELETE FROM {Table} WHERE bucket_start < @cut", cancellationToken, ("cut", cut));
    }
}
