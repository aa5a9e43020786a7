using Diabetes.Core.Data;
using Diabetes.InferenceApi.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// Empties the prediction log's queue into PostgreSQL: up to <see cref="MonitoringOptions.BatchSize"/> predictions a
/// binary COPY, as many as are waiting, with their drift counts (<see cref="DriftCounts"/>) in the same transaction. A batch that cannot be written is kept and tried again with a growing pause
/// (one line in the log when writing stops, one when it resumes); meanwhile the queue fills and what does not fit is
/// dropped. At a graceful stop the queue is closed and emptied, within the host's shutdown timeout.
/// </summary>
public sealed partial class PredictionLogWriter(
    PredictionLog log,
    NpgsqlDataSource dataSource,
    DatabaseSchema<MonitoringDataContext> schema,
    PredictionPartitions partitions,
    IOptions<MonitoringOptions> options,
    TimeProvider timeProvider,
    ILogger<PredictionLogWriter> logger) : BackgroundService
{
    /// <summary>
    /// How long the writer lets predictions gather before it writes fewer than a batch: one transaction a second at a
    /// moderate rate instead of one per prediction, which would take PostgreSQL's time from the requests.
    /// </summary>
    public static readonly TimeSpan GatherTime = TimeSpan.FromSeconds(1);

    /// <summary>How often the writer looks whether a batch has gathered.</summary>
    private static readonly TimeSpan GatherPoll = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batchSize = options.Value.BatchSize;
        var batch = new List<LoggedPrediction>(batchSize);
        try
        {
            while (await log.Reader.WaitToReadAsync(stoppingToken))
            {
                // Fewer than a batch waits up to the gather time, a full batch not at all: at a high rate the queue then
                // holds about one batch, not a second's worth kept alive through the garbage collections meanwhile.
                var gathering = timeProvider.GetTimestamp();
                while (log.Queued < batchSize && !log.IsClosed && timeProvider.GetElapsedTime(gathering) < GatherTime)
                {
                    await Task.Delay(GatherPoll, timeProvider, stoppingToken);
                }

                while (batch.Count < batchSize && log.Reader.TryRead(out var prediction))
                {
                    batch.Add(prediction);
                }

                await WriteAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The shutdown timeout ran out first: what is left is lost, and said so.
            var lost = batch.Count;
            while (log.Reader.TryRead(out _))
            {
                lost++;
            }

            if (lost > 0)
            {
                log.Drop(lost, PredictionLog.Stopped);
                LogLostAtStop(lost);
            }
        }
    }

    /// <summary>Closes the queue and waits until the writer has emptied it, or until the host stops waiting.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        var queued = log.Queued;
        if (log.Close())
        {
            LogStopping(queued);
        }

        if (ExecuteTask is { } writing)
        {
            try
            {
                await writing.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Out of time: the writer is stopped below.
            }
        }

        // Cancels the writer and waits for it to count what it could not write; every wait of the writer ends on that
        // cancellation (a COPY under way within Npgsql's cancellation timeout).
        await base.StopAsync(CancellationToken.None);
    }

    /// <summary>
    /// Writes the batch, trying again until it is written or the service stops; a batch PostgreSQL refuses for its data
    /// (which would be refused again) is dropped, counted and logged, so that it cannot stop the log.
    /// </summary>
    private async Task WriteAsync(List<LoggedPrediction> batch, CancellationToken cancellationToken)
    {
        var counts = TallySafely(batch);
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                await CopyAsync(batch, counts, cancellationToken);
                break;
            }
            catch (Exception exception) when (PostgresErrors.IsDataError(exception))
            {
                log.Drop(batch.Count, PredictionLog.Rejected);
                LogRejected(exception, exception.Message, batch.Count);
                return;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                if (log.Failure is null)
                {
                    LogCannotWrite(exception, exception.Message, batch.Count, log.Capacity);
                }

                log.WriteFailed(exception.Message);
                partitions.Forget();
                await Task.Delay(delay, timeProvider, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(2 * delay.Ticks, MaxRetryDelay.Ticks));
            }
        }

        if (log.Failure is { } failure)
        {
            LogWritingAgain(failure.Since, log.Dropped);
        }

        log.Written(batch.Count);
    }

    /// <summary>The batch's drift counts; none when they cannot be made (the rows are logged all the same).</summary>
    private IReadOnlyList<DriftCounts.Count> TallySafely(List<LoggedPrediction> batch)
    {
        try
        {
            return DriftCounts.Tally(batch);
        }
        catch (Exception exception)
        {
            LogNotCounted(exception, exception.Message, batch.Count);
            return [];
        }
    }

    private async Task CopyAsync(List<LoggedPrediction> batch, IReadOnlyList<DriftCounts.Count> counts, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await partitions.EnsureAsync(batch.Select(p => PredictionPartitions.DayOf(p.At)), cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The rows and their drift counts together: a retry after a lost answer adds neither twice.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await PredictionTable.CopyAsync(connection, batch, cancellationToken);
            await DriftCounts.AddAsync(connection, counts, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Ids are unique, so the batch is there already: written by an attempt whose answer was lost.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The prediction log cannot be written ({Error}); keeping {Count} predictions and trying again, while predictions that do not fit the queue of {Capacity} are dropped")]
    private partial void LogCannotWrite(Exception exception, string error, int count, int capacity);

    [LoggerMessage(Level = LogLevel.Information, Message = "The prediction log is written again (it could not be since {Since:O}); {Dropped} predictions dropped since the start")]
    private partial void LogWritingAgain(DateTimeOffset since, long dropped);

    [LoggerMessage(Level = LogLevel.Error, Message = "PostgreSQL refused {Count} predictions for their data ({Error}): they are dropped, not tried again")]
    private partial void LogRejected(Exception exception, string error, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} predictions are logged without drift counts, which could not be made ({Error})")]
    private partial void LogNotCounted(Exception exception, string error, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: writing the {Count} predictions still queued")]
    private partial void LogStopping(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} predictions were not logged: the service stopped before PostgreSQL took them")]
    private partial void LogLostAtStop(int count);
}
