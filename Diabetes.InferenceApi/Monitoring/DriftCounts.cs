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

    /// <summary>The predictions of a version logged in one hour, and how many of them were decided readmitted.</summary>
    public sealed record HourOfDecisions(int ModelVersion, DateTimeOffset Hour, long Predictions, long PredictedReadmitted);

    /// <summary>One count: the predictions of a version in one bucket that fell in one bin of one input.</summary>
    public sealed record Count(DateTimeOffset BucketStart, string ModelName, int ModelVersion, string Input, short Bin, long Predictions);

    public static DateTimeOffset BucketOf(DateTimeOffset at) => StartOf(at, Bucket);

    /// <summary>The first bucket that starts at or after <paramref name="at"/>.</summary>
    public static DateTimeOffset BucketAtOrAfter(DateTimeOffset at) => StartAtOrAfter(at, Bucket);

    /// <summary>
    /// The start of the span of <paramref name="length"/> that holds <paramref name="at"/>, spans counted in UTC from
    /// the year 1; a length of whole buckets (an hour) starts on a bucket.
    /// </summary>
    public static DateTimeOffset StartOf(DateTimeOffset at, TimeSpan length) =>
        new(at.UtcTicks - at.UtcTicks % length.Ticks, TimeSpan.Zero);

    /// <summary>The first span of <paramref name="length"/> that starts at or after <paramref name="at"/>.</summary>
    public static DateTimeOffset StartAtOrAfter(DateTimeOffset at, TimeSpan length) =>
        StartOf(at, length) == at ? at : StartOf(at, length) + length;

    /// <summary>
    /// The counts of a batch of logged predictions. Each prediction adds one to an array slot per input (this runs for
    /// every logged prediction, where a dictionary keyed by bucket, version, input and bin took four times as long);
    /// the arrays become counts once per batch.
    /// </summary>
    public static IReadOnlyList<Count> Tally(IEnumerable<LoggedPrediction> predictions)
    {
        var tallies = new List<BucketTally>();
        BucketTally? current = null;
        foreach (var prediction in predictions)
        {
            var bucket = BucketOf(prediction.At);
            // A batch is mostly one version in one bucket or two: the last tally almost always holds the next prediction.
            if (current is null || !current.Holds(bucket, prediction))
            {
                current = tallies.Find(tally => tally.Holds(bucket, prediction));
                if (current is null)
                {
                    current = new BucketTally(bucket, prediction.ModelName, prediction.ModelVersion, prediction.Reference);
                    tallies.Add(current);
                }
            }

            current.Add(prediction);
        }

        // Two tallies of one version and bucket (a version loaded again, with a new profile object) add to the same counts.
        return tallies.SelectMany(tally => tally.Counts())
            .GroupBy(count => count with { Predictions = 0 })
            .Select(same => same.Key with { Predictions = same.Sum(count => count.Predictions) })
            .ToArray();
    }

    /// <summary>The predictions of one version in one bucket, per input and bin of the profile they were logged with.</summary>
    private sealed class BucketTally(DateTimeOffset bucket, string modelName, string modelVersion, ReferenceProfile? reference)
    {
        private readonly long[] _decisions = new long[2];
        private readonly long[][] _inputs = reference?.Inputs.Select(input => new long[input.Bins.Count]).ToArray() ?? [];
        private readonly long[] _scores = new long[reference?.Score.Bins.Count ?? 0];

        public bool Holds(DateTimeOffset predictionBucket, LoggedPrediction prediction) =>
            predictionBucket == bucket && ReferenceEquals(prediction.Reference, reference)
            && prediction.ModelVersion == modelVersion && prediction.ModelName == modelName;

        public void Add(LoggedPrediction prediction)
        {
            _decisions[prediction.PredictedReadmitted ? 1 : 0]++;
            if (reference is null)
            {
                return;
            }

            var bins = reference.BinsOf(prediction.Input);
            for (var i = 0; i < bins.Length; i++)
            {
                if (bins[i] >= 0)
                {
                    _inputs[i][bins[i]]++;
                }
            }

            _scores[reference.Score.BinOf((float)prediction.Probability)]++;
        }

        public IEnumerable<Count> Counts()
        {
            var version = int.Parse(modelVersion, System.Globalization.CultureInfo.InvariantCulture);
            IEnumerable<Count> Of(string input, long[] bins) => bins.Select((predictions, bin) => new Count(bucket, modelName, version, input, (short)bin, predictions))
                .Where(count => count.Predictions > 0);
            return reference is null
                ? Of(DecisionInput, _decisions)
                : Of(DecisionInput, _decisions).Concat(reference.Inputs.SelectMany((input, i) => Of(input.Input, _inputs[i]))).Concat(Of(ScoreInput, _scores));
        }
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

    /// <summary>
    /// Per version and hour (UTC) of the buckets that start in [<paramref name="from"/>, <paramref name="to"/>), how many
    /// predictions were logged and how many of them decided readmitted: the decision's counts, which every logged
    /// prediction has (with a reference profile or without), read through the partial index on them.
    /// </summary>
    public static async Task<IReadOnlyList<HourOfDecisions>> ReadDecisionsPerHourAsync(
        NpgsqlDataSource dataSource, string modelName, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        // The input written out, not a parameter: only then may the planner use the partial index, whose rows are these.
        await using var command = dataSource.CreateCommand($"""
            SELECT model_version, date_trunc('hour', bucket_start, 'UTC'), sum(predictions)::bigint,
                   coalesce(sum(predictions) FILTER (WHERE bin = 1), 0)::bigint
            FROM {Table}
            WHERE model_name = @name AND input = '{DecisionInput}' AND bucket_start >= @from AND bucket_start < @to
            GROUP BY 1, 2
            ORDER BY 1, 2
            """);
        command.Parameters.AddWithValue("name", modelName);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        var hours = new List<HourOfDecisions>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hours.Add(new HourOfDecisions(reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return hours;
    }

    /// <summary>Deletes the counts of buckets before <paramref name="cut"/>, as retention drops the logged days.</summary>
    public static async Task<int> DeleteBeforeAsync(NpgsqlDataSource dataSource, DateTimeOffset cut, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync($"DELETE FROM {Table} WHERE bucket_start < @cut", cancellationToken, ("cut", cut));
    }
}
