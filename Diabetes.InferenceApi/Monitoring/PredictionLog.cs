using System.Buffers.Binary;
using System.Threading.Channels;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Diabetes.InferenceApi.Serving;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// One answered prediction as the log keeps it. <see cref="At"/> is the millisecond <see cref="Id"/> carries (see
/// <see cref="PredictionIds"/>). A struct, so that the queue holds it inline.
/// </summary>
public readonly record struct LoggedPrediction(
    Guid Id, DateTimeOffset At, string ModelName, string ModelVersion, double Probability, double Threshold, bool PredictedReadmitted, ModelInput Input,
    ReferenceProfile? Reference);

/// <summary>Why the writer cannot write, since when.</summary>
public sealed record WriterFailure(DateTimeOffset Since, string Error);

/// <summary>
/// Prediction ids: UUIDs version 7, whose first 48 bits are the Unix time in milliseconds. The log stores that
/// millisecond as the prediction's time, so an id alone gives the day partition its row lives in.
/// </summary>
public static class PredictionIds
{
    /// <summary>A new id made at <paramref name="now"/>, and the time it carries (<paramref name="now"/> to the millisecond).</summary>
    public static (Guid Id, DateTimeOffset At) New(DateTimeOffset now)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        return (Guid.CreateVersion7(at), at);
    }

    /// <summary>The time a prediction id carries (meaningful only for the ids <see cref="New"/> makes).</summary>
    public static DateTimeOffset TimeOf(Guid id) => DateTimeOffset.FromUnixTimeMilliseconds(MillisecondsOf(id));

    /// <summary>
    /// The time <paramref name="id"/> carries, if it can be an id of <see cref="New"/>: a UUID version 7 whose time is
    /// one <see cref="DateTimeOffset"/> can hold (its 48 bits reach past the year 9999).
    /// </summary>
    public static bool TryTimeOf(Guid id, out DateTimeOffset at)
    {
        var milliseconds = MillisecondsOf(id);
        var valid = id.Version == 7 && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
        at = valid ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) : default;
        return valid;
    }

    private static long MillisecondsOf(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16);
    }
}

/// <summary>
/// The queue between the requests and <see cref="PredictionLogWriter"/>: bounded, and a request only tries to add to
/// it, never waits for room; a prediction that does not fit is dropped and counted, and still answered. Without a
/// <c>monitoring</c> connection string the log is off: predictions get their ids and nothing is queued. Also what
/// <c>/health</c> reports: drops, and whether the writer can write.
/// </summary>
public sealed class PredictionLog
{
    /// <summary>The log's database: <c>ConnectionStrings:monitoring</c>.</summary>
    public const string ConnectionName = "monitoring";

    /// <summary>Why a prediction was dropped (the counter's <c>reason</c>): the queue was full, or the service stopped first.</summary>
    public const string QueueFull = "queue_full";
    public const string Stopped = "stopped";

    /// <summary>Why a prediction was dropped: PostgreSQL refused its batch for its data, which would be refused again.</summary>
    public const string Rejected = "rejected";

    private readonly Channel<LoggedPrediction>? _queue;
    private readonly ServingTelemetry _telemetry;
    private readonly TimeProvider _timeProvider;
    private volatile bool _closed;
    private long _dropped;
    private long _lastDropTicks;
    private WriterFailure? _failure;

    /// <param name="capacity">Predictions the queue holds; <c>null</c>: the log is off.</param>
    public PredictionLog(int? capacity, ServingTelemetry telemetry, TimeProvider timeProvider)
    {
        _telemetry = telemetry;
        _timeProvider = timeProvider;
        Capacity = capacity ?? 0;
        if (capacity is { } size)
        {
            // Wait, not a drop mode: TryWrite then answers false when the queue is full, and the drop is counted here.
            _queue = Channel.CreateBounded<LoggedPrediction>(new BoundedChannelOptions(size)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
            });
        }
    }

    public int Capacity { get; }

    public ChannelReader<LoggedPrediction> Reader => _queue?.Reader ?? throw new InvalidOperationException("The prediction log is off.");

    public int Queued => _queue?.Reader.Count ?? 0;

    /// <summary>Whether the queue takes no more (the service is stopping).</summary>
    public bool IsClosed => _closed;

    /// <summary>Predictions not logged since the start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public DateTimeOffset? LastDropAt => Interlocked.Read(ref _lastDropTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Why the last write failed, since the first failure in a row; <c>null</c> once a write succeeds.</summary>
    public WriterFailure? Failure => Volatile.Read(ref _failure);

    /// <summary>Gives the prediction its id and queues it, if there is room; never waits.</summary>
    public Guid Add(ServedModel model, ModelInput input, double probability, bool predictedReadmitted)
    {
        var (id, at) = PredictionIds.New(_timeProvider.GetUtcNow());
        if (_queue is not null && !_queue.Writer.TryWrite(new LoggedPrediction(
                id, at, model.Version.Name, model.Version.Version, probability, model.Metadata.Threshold, predictedReadmitted, input, model.Reference)))
        {
            Drop(1, _closed ? Stopped : QueueFull);
        }

        return id;
    }

    /// <summary>Takes nothing more: the writer empties the queue and ends. True the first time.</summary>
    public bool Close()
    {
        _closed = true;
        return _queue?.Writer.TryComplete() == true;
    }

    public void Drop(int count, string reason)
    {
        Interlocked.Add(ref _dropped, count);
        Interlocked.Exchange(ref _lastDropTicks, _timeProvider.GetUtcNow().UtcTicks);
        _telemetry.RecordLogDropped(count, reason);
    }

    public void Written(int count)
    {
        Volatile.Write(ref _failure, null);
        _telemetry.RecordLogWritten(count);
    }

    /// <summary>Records a failed write; the time of the first failure in a row is kept.</summary>
    public void WriteFailed(string error) =>
        Volatile.Write(ref _failure, new WriterFailure(Failure?.Since ?? _timeProvider.GetUtcNow(), error));
}
