using Npgsql;

namespace Diabetes.Trainer.Training;

/// <summary>
/// The lease of a job this process runs, renewed every <see cref="TrainingOptions.LeaseRenewInterval"/> until the job
/// ends. <see cref="Token"/> is cancelled when the trainer stops or the lease is lost: taken over, or not renewed
/// within <see cref="TrainingOptions.LeaseDuration"/> of the last renewal sent (PostgreSQL's own clock starts later, so
/// the job stops before anyone may take it). From then on the job writes nothing.
/// </summary>
public sealed class JobLease : IAsyncDisposable
{
    // Ending or releasing a lease must not hold up a stopping trainer when PostgreSQL does not answer.
    private static readonly TimeSpan LastWriteTimeout = TimeSpan.FromSeconds(5);

    private readonly JobLeases _leases;
    private readonly TrainingOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lapse;
    private readonly CancellationTokenSource _job;
    private readonly CancellationTokenSource _stopRenewing = new();
    private readonly Task _renewing;
    private volatile string? _lossReason;
    private bool _ended;

    internal JobLease(JobLeases leases, string jobId, long sentAt, TrainingOptions options, TimeProvider timeProvider, ILogger logger,
        CancellationToken stoppingToken)
    {
        _leases = leases;
        JobId = jobId;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _lapse = new CancellationTokenSource(Remaining(sentAt), timeProvider);
        _lapse.Token.Register(() => logger.LogWarning("Training job {JobId} lost its lease ({Reason}): it stops without writing its results",
            jobId, _lossReason ?? $"not renewed within {options.LeaseDuration}"));
        _job = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _lapse.Token);
        _renewing = RenewAsync();
    }

    public string JobId { get; }

    /// <summary>Cancelled when the trainer stops or the lease is lost.</summary>
    public CancellationToken Token => _job.Token;

    public bool IsLost => _lapse.IsCancellationRequested;

    /// <summary>
    /// Renews the lease now, asking again while PostgreSQL does not answer: the job still holds it for a full
    /// <see cref="TrainingOptions.LeaseDuration"/> once this returns. Throws when it is lost or the trainer stops.
    /// </summary>
    public async Task ConfirmAsync()
    {
        while (await TryRenewAsync() is null)
        {
            await Task.Delay(_options.LeaseRenewInterval, _timeProvider, Token);
        }

        Token.ThrowIfCancellationRequested();
    }

    /// <summary>The job ended with its results (or its failure) written: nobody is to take it over.</summary>
    public async Task EndAsync()
    {
        _ended = true;
        await StopRenewingAsync();
        // Ended, it can no longer lapse.
        _lapse.CancelAfter(Timeout.InfiniteTimeSpan);
        // Else it expires, and the trainer that takes it over finds nothing left to fail.
        await LastWriteAsync(_leases.EndAsync, "end");
    }

    /// <summary>A job that did not end (the trainer stops) lets go of its lease, so that another trainer fails it at once.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopRenewingAsync();
        if (!_ended && !IsLost)
        {
            await LastWriteAsync(_leases.ReleaseAsync, "release");
        }

        _job.Dispose();
        _lapse.Dispose();
        _stopRenewing.Dispose();
    }

    /// <summary>A last change to the lease, which must not fail the job: when it cannot be made, the lease expires by itself.</summary>
    private async Task LastWriteAsync(Func<string, CancellationToken, Task> write, string change)
    {
        using var timeout = new CancellationTokenSource(LastWriteTimeout, _timeProvider);
        try
        {
            await write(JobId, timeout.Token);
        }
        catch (Exception exception)
        {
            // Whatever the fault (PostgreSQL down, the trainer's services already disposed), the lease expires in time.
            _logger.LogWarning("Could not {Change} the lease of training job {JobId} ({Error}); it expires by itself", change, JobId, exception.Message);
        }
    }

    /// <summary>How long a lease renewed by a statement sent at <paramref name="sentAt"/> lasts from now, at least.</summary>
    private TimeSpan Remaining(long sentAt) => TimeSpan.FromTicks(Math.Max(0, (_options.LeaseDuration - _timeProvider.GetElapsedTime(sentAt)).Ticks));

    private async Task StopRenewingAsync()
    {
        await _stopRenewing.CancelAsync();
        await _renewing;
    }

    private async Task RenewAsync()
    {
        using var timer = new PeriodicTimer(_options.LeaseRenewInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopRenewing.Token) && !IsLost)
            {
                await TryRenewAsync();
            }
        }
        catch (OperationCanceledException) when (_stopRenewing.IsCancellationRequested)
        {
            // The job ended.
        }
    }

    /// <summary>True when renewed, false when lost, null when PostgreSQL did not answer in time.</summary>
    private async Task<bool?> TryRenewAsync()
    {
        if (IsLost)
        {
            return false;
        }

        var sentAt = _timeProvider.GetTimestamp();
        // An attempt that hangs must not outlast the next one.
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stopRenewing.Token, _lapse.Token);
        attempt.CancelAfter(_options.LeaseRenewInterval);
        try
        {
            if (await _leases.RenewAsync(JobId, attempt.Token))
            {
                _lapse.CancelAfter(Remaining(sentAt));
                return true;
            }

            _lossReason = "another trainer took it over, or it expired";
            await _lapse.CancelAsync();
            return false;
        }
        catch (OperationCanceledException) when (IsLost || _stopRenewing.IsCancellationRequested)
        {
            return IsLost ? false : null;
        }
        catch (Exception exception)
        {
            // Whatever went wrong, the lease stands until it lapses: the next renewal may get through.
            _logger.LogWarning("Could not renew the lease of training job {JobId} ({Error}); the job stops unless a renewal succeeds within {LeaseDuration} of the last one",
                JobId, exception.Message, _options.LeaseDuration);
            return null;
        }
    }
}
