using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Diabetes.Trainer.Training;

/// <summary>The jobs of this process, and the queue the runner takes them from. One job runs at a time.</summary>
public sealed class TrainingJobs(TimeProvider timeProvider)
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, TrainingJob> _jobs = new();
    private readonly Channel<TrainingJob> _queue = Channel.CreateUnbounded<TrainingJob>();
    private TrainingJob? _current;

    public ChannelReader<TrainingJob> Queue => _queue.Reader;

    /// <summary>Starts a job for <paramref name="request"/>, or answers the one running, as it was asked for (<c>Created</c> is then false).</summary>
    public (TrainingJob Job, bool Created) StartOrGetRunning(TrainingRequest request)
    {
        lock (_gate)
        {
            if (_current is { IsRunning: true } running)
            {
                return (running, false);
            }

            var job = new TrainingJob(Guid.NewGuid().ToString("N")[..IdLength], request, timeProvider);
            _jobs[job.Id] = job;
            _current = job;
            _queue.Writer.TryWrite(job);
            return (job, true);
        }
    }

    public TrainingJob? Find(string id) => _jobs.GetValueOrDefault(id);

    private const int IdLength = 12;

    /// <summary>Whether <paramref name="id"/> could be a job's (12 lowercase hex digits): anything else is unknown without asking MLflow.</summary>
    public static bool IsWellFormedId(string id) => id.Length == IdLength && id.All(char.IsAsciiHexDigitLower);
}

/// <summary>Runs queued jobs one after the other; a job that throws is marked failed with the reason.</summary>
public sealed class TrainingJobRunner(TrainingJobs jobs, TrainingWorkflow workflow, ILogger<TrainingJobRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var job in jobs.Queue.ReadAllAsync(stoppingToken))
        {
            try
            {
                await workflow.RunAsync(job, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                job.Failed("The trainer stopped during the job.");
                throw;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Training job {JobId} failed", job.Id);
                job.Failed(exception is TrainingRefusedException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}");
            }
        }
    }
}

/// <summary>
/// A job that cannot go on for a reason its message tells whole: nothing to train on in CLEAN DATA, no lease to be had,
/// or the lease lost.
/// </summary>
public sealed class TrainingRefusedException(string message, Exception? innerException = null) : Exception(message, innerException);
