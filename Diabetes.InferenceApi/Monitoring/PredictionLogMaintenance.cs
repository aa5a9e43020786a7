using Diabetes.Core.Data;
using Diabetes.InferenceApi.Data;
using Microsoft.Extensions.Options;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// Keeps the prediction log's schema and partitions: migrates the database (creating it when the user may), adds the
/// partitions of today and the next <see cref="DaysAhead"/> days, and drops the days older than
/// <see cref="MonitoringOptions.RetentionDays"/> with their drift counts; at start-up and then every hour, and again soon after a failure
/// (logged once per distinct error).
/// </summary>
public sealed partial class PredictionLogMaintenance(
    DatabaseSchema<MonitoringDataContext> schema,
    PredictionPartitions partitions,
    Npgsql.NpgsqlDataSource dataSource,
    IOptions<MonitoringOptions> options,
    TimeProvider timeProvider,
    ILogger<PredictionLogMaintenance> logger) : BackgroundService
{
    public const int DaysAhead = 3;

    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string? lastError = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var pause = Interval;
            try
            {
                await MaintainAsync(stoppingToken);
                lastError = null;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                if (exception.Message != lastError)
                {
                    lastError = exception.Message;
                    LogFailed(exception, exception.Message, RetryDelay);
                }

                pause = RetryDelay;
            }

            await Task.Delay(pause, timeProvider, stoppingToken);
        }
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        var today = PredictionPartitions.DayOf(now);
        await partitions.EnsureAsync(Enumerable.Range(0, DaysAhead + 1).Select(today.AddDays), cancellationToken);

        // A day goes once all of it is older than the retention: its last instant is before the cut. Its drift counts go with it.
        var retention = options.Value.RetentionDays;
        var oldestKept = PredictionPartitions.DayOf(now.AddDays(-retention));
        var dropped = await partitions.DropBeforeAsync(oldestKept, cancellationToken);
        await DriftCounts.DeleteBeforeAsync(dataSource, new DateTimeOffset(oldestKept.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), cancellationToken);
        if (dropped.Count > 0)
        {
            LogDropped(string.Join(", ", dropped.Select(d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))), retention);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not keep the prediction log's schema and partitions ({Error}); trying again in {Delay}")]
    private partial void LogFailed(Exception exception, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped the prediction log of {Days}: older than {RetentionDays} days")]
    private partial void LogDropped(string days, int retentionDays);
}
