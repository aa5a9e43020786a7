using Diabetes.Core.Data;
using Diabetes.InferenceApi.Data;
using Npgsql;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>An outcome as reported: whether the patient a prediction was about was readmitted within 30 days.</summary>
public readonly record struct ReportedOutcome(Guid PredictionId, bool ReadmittedWithin30Days);

public enum OutcomeStatus
{
    /// <summary>Recorded now.</summary>
    Recorded,

    /// <summary>The same outcome was on record already: nothing changed.</summary>
    AlreadyRecorded,

    /// <summary>Another outcome is on record: it stays.</summary>
    Conflict,

    /// <summary>No such prediction in the log: never logged, not an id of this service, or its day gone by retention.</summary>
    Unknown,
}

/// <summary>What became of a reported outcome, and the outcome on record for its prediction (none for an unknown one).</summary>
public readonly record struct OutcomeResult(OutcomeStatus Status, bool? OnRecord);

/// <summary>A version's predictions that have outcomes: the probability, the decision and the outcome of each.</summary>
public sealed record KnownOutcomes(IReadOnlyList<float> Probabilities, IReadOnlyList<bool> Decisions, IReadOnlyList<bool> Readmitted);

/// <summary>
/// The table <c>outcomes</c> (created by the migration <c>OutcomesTable</c>): at most one outcome per logged
/// prediction, never changed once recorded, and what live quality reads.
/// </summary>
public sealed class OutcomeStore(NpgsqlDataSource dataSource, DatabaseSchema<MonitoringDataContext> schema)
{
    public const string TableName = "outcomes";

    /// <summary>
    /// Records a list of outcomes in one statement: each prediction is looked up by its id and the time its id carries,
    /// its outcome inserted unless one is on record, and the outcome on record read. The lookups are a subquery with a
    /// LIMIT and a scalar subquery, which PostgreSQL runs item by item with run-time partition pruning: one index probe
    /// of one day's partition of each table per item, where a plain join of a thousand items would be hashed against
    /// every partition. The outcome on record is read as the statement began: one that another request committed
    /// meanwhile reads as none, and that prediction is asked about again.
    /// </summary>
    private const string RecordSql = """
        WITH reported AS (
            SELECT * FROM unnest(@ids, @times, @outcomes) AS r (prediction_id, predicted_at, readmitted)
        ),
        found AS (
            SELECT p.*, r.readmitted
            FROM reported r
            CROSS JOIN LATERAL (
                SELECT prediction_id, predicted_at, model_name, model_version, probability, predicted_readmitted
                FROM predictions
                WHERE prediction_id = r.prediction_id AND predicted_at = r.predicted_at
                LIMIT 1) p
        ),
        inserted AS (
            INSERT INTO outcomes (prediction_id, predicted_at, model_name, model_version, probability, predicted_readmitted, readmitted_within_30_days, recorded_at)
            SELECT prediction_id, predicted_at, model_name, model_version, probability, predicted_readmitted, readmitted, now() FROM found
            ON CONFLICT (prediction_id, predicted_at) DO NOTHING
            RETURNING prediction_id
        )
        SELECT r.prediction_id, f.prediction_id IS NOT NULL, i.prediction_id IS NOT NULL,
            (SELECT o.readmitted_within_30_days FROM outcomes o WHERE o.prediction_id = r.prediction_id AND o.predicted_at = r.predicted_at)
        FROM reported r
        LEFT JOIN found f ON f.prediction_id = r.prediction_id
        LEFT JOIN inserted i ON i.prediction_id = r.prediction_id
        """;

    /// <summary>
    /// Records <paramref name="outcomes"/> and answers what became of each, in their order. A prediction reported twice
    /// in the list is recorded once; the repeat is judged against what the first left on record.
    /// </summary>
    public async Task<OutcomeResult[]> RecordAsync(IReadOnlyList<ReportedOutcome> outcomes, CancellationToken cancellationToken)
    {
        var results = new OutcomeResult?[outcomes.Count];
        var firstReport = new Dictionary<Guid, int>();
        var pending = new List<(ReportedOutcome Outcome, DateTimeOffset At, int Index)>();
        for (var index = 0; index < outcomes.Count; index++)
        {
            var outcome = outcomes[index];
            if (!PredictionIds.TryTimeOf(outcome.PredictionId, out var at))
            {
                results[index] = new OutcomeResult(OutcomeStatus.Unknown, null);
            }
            else if (firstReport.TryAdd(outcome.PredictionId, index))
            {
                pending.Add((outcome, at, index));
            }
        }

        if (pending.Count > 0)
        {
            await schema.EnsureCreatedAsync(cancellationToken);
        }

        // A second statement sees what a concurrent report committed; a prediction still unresolved then is a fault.
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var rows = await RecordOnceAsync(pending, cancellationToken);
            var unresolved = new List<(ReportedOutcome Outcome, DateTimeOffset At, int Index)>();
            foreach (var report in pending)
            {
                var reported = report.Outcome.ReadmittedWithin30Days;
                var (found, inserted, onRecord) = rows[report.Outcome.PredictionId];
                OutcomeResult? result = (found, inserted, onRecord) switch
                {
                    (false, _, _) => new OutcomeResult(OutcomeStatus.Unknown, null),
                    (true, true, _) => new OutcomeResult(OutcomeStatus.Recorded, reported),
                    (true, false, { } earlier) => Against(earlier, reported),
                    (true, false, null) => null,
                };
                if (result is null)
                {
                    unresolved.Add(report);
                }

                results[report.Index] = result;
            }

            if (unresolved.Count > 0 && attempt == 2)
            {
                throw new InvalidOperationException($"The outcome of prediction {unresolved[0].Outcome.PredictionId} was neither recorded nor found on record.");
            }

            pending = unresolved;
        }

        for (var index = 0; index < outcomes.Count; index++)
        {
            if (results[index] is null)
            {
                var onRecord = results[firstReport[outcomes[index].PredictionId]]!.Value.OnRecord;
                results[index] = onRecord is { } earlier ? Against(earlier, outcomes[index].ReadmittedWithin30Days) : new OutcomeResult(OutcomeStatus.Unknown, null);
            }
        }

        return [.. results.Select(result => result!.Value)];
    }

    /// <summary>The outcomes of version <paramref name="version"/> of <paramref name="modelName"/>, with its predictions.</summary>
    public async Task<KnownOutcomes> ReadAsync(string modelName, int version, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand(
            "SELECT probability, predicted_readmitted, readmitted_within_30_days FROM outcomes WHERE model_name = @name AND model_version = @version",
            ("name", modelName), ("version", version));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var (probabilities, decisions, readmitted) = (new List<float>(), new List<bool>(), new List<bool>());
        while (await reader.ReadAsync(cancellationToken))
        {
            // The model's own float, which the log keeps exactly as a double.
            probabilities.Add((float)reader.GetDouble(0));
            decisions.Add(reader.GetBoolean(1));
            readmitted.Add(reader.GetBoolean(2));
        }

        return new KnownOutcomes(probabilities, decisions, readmitted);
    }

    /// <summary>A report of a prediction whose outcome is on record already.</summary>
    private static OutcomeResult Against(bool onRecord, bool reported) =>
        new(onRecord == reported ? OutcomeStatus.AlreadyRecorded : OutcomeStatus.Conflict, onRecord);

    private async Task<Dictionary<Guid, (bool Found, bool Inserted, bool? OnRecord)>> RecordOnceAsync(
        IReadOnlyList<(ReportedOutcome Outcome, DateTimeOffset At, int Index)> reports, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand(RecordSql,
            ("ids", reports.Select(r => r.Outcome.PredictionId).ToArray()),
            ("times", reports.Select(r => r.At).ToArray()),
            ("outcomes", reports.Select(r => r.Outcome.ReadmittedWithin30Days).ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new Dictionary<Guid, (bool, bool, bool?)>(reports.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows[reader.GetGuid(0)] = (reader.GetBoolean(1), reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetBoolean(3));
        }

        return rows;
    }
}
