using Diabetes.Core.Data;
using Diabetes.Trainer.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Diabetes.Trainer.Training;

/// <summary>Where a job's lease stands.</summary>
public enum JobLeaseState
{
    /// <summary>No lease: the job run comes from a trainer that kept none.</summary>
    None,

    /// <summary>Its holder renews it: the job is the holder's.</summary>
    Held,

    /// <summary>Not renewed in time and the job not ended: its holder is gone, and the job is anyone's to take over.</summary>
    Expired,

    /// <summary>The job ended; nobody holds it.</summary>
    Ended,
}

/// <summary>
/// Who runs each training job, in CLEAN DATA's PostgreSQL (<c>training_job_leases</c>): a running job belongs to the
/// trainer process that holds its lease. The holder renews it there (<see cref="JobLease"/>), never through MLflow, so
/// a trainer cut off from MLflow keeps its job. Once a lease has expired any trainer may take it over, by one atomic
/// compare-and-set, which one of several alone wins. Times are PostgreSQL's, so trainers' clocks never disagree.
/// </summary>
public sealed class JobLeases(
    [FromKeyedServices(CleanDataReader.ConnectionName)] NpgsqlDataSource dataSource, TrainerSchema schema, IOptions<TrainingOptions> options,
    TimeProvider timeProvider, ILogger<JobLeases> logger)
{
    /// <summary>This process as a lease names its holder: host, process and a random part (two trainers may share a process).</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    private TimeSpan Duration => options.Value.LeaseDuration;

    /// <summary>Takes the lease of a new job and keeps it renewed until the job ends.</summary>
    public async Task<JobLease> AcquireAsync(string jobId, CancellationToken cancellationToken)
    {
        var sentAt = timeProvider.GetTimestamp();
        try
        {
            await ExecuteAsync("INSERT INTO training_job_leases (job_id, owner, expires_at) VALUES (@job, @owner, now() + @duration)", jobId, cancellationToken);
        }
        catch (NpgsqlException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TrainingRefusedException(
                $"The job could not take its lease in CLEAN DATA's PostgreSQL ({exception.Message}); start it again once PostgreSQL answers.");
        }

        return new JobLease(this, jobId, sentAt, options.Value, timeProvider, logger, cancellationToken);
    }

    /// <summary>Extends a lease this process holds, unless it expired or the job ended: false when it is no longer this process's.</summary>
    internal async Task<bool> RenewAsync(string jobId, CancellationToken cancellationToken) =>
        await ExecuteAsync("""
            UPDATE training_job_leases SET expires_at = now() + @duration
            WHERE job_id = @job AND owner = @owner AND ended_at IS NULL AND expires_at > now()
            """, jobId, cancellationToken) == 1;

    /// <summary>Lets go of a lease this process holds before its job ended (the trainer stops): it expires at once.</summary>
    internal Task ReleaseAsync(string jobId, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE training_job_leases SET expires_at = now() WHERE job_id = @job AND owner = @owner AND ended_at IS NULL", jobId, cancellationToken);

    /// <summary>Ends the job of a lease this process holds: nobody may take it over any more.</summary>
    public Task EndAsync(string jobId, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE training_job_leases SET ended_at = now() WHERE job_id = @job AND owner = @owner AND ended_at IS NULL", jobId, cancellationToken);

    /// <summary>
    /// Takes over the lease of a job whose lease expired, or that has none: true for the one caller that got it. The
    /// insert or update and its condition are one statement on the row, so two trainers never both win.
    /// </summary>
    public async Task<bool> TryTakeOverAsync(string jobId, CancellationToken cancellationToken) =>
        await ExecuteAsync("""
            INSERT INTO training_job_leases AS lease (job_id, owner, expires_at) VALUES (@job, @owner, now() + @duration)
            ON CONFLICT (job_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, acquired_at = now(), taken_over_from = lease.owner
            WHERE lease.ended_at IS NULL AND lease.expires_at <= now()
            """, jobId, cancellationToken) == 1;

    /// <summary>The state of these jobs' leases (<see cref="JobLeaseState.None"/> left out), and of every other expired one.</summary>
    public async Task<IReadOnlyDictionary<string, JobLeaseState>> StatesAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand("""
            SELECT job_id, CASE WHEN ended_at IS NOT NULL THEN 'Ended' WHEN expires_at > now() THEN 'Held' ELSE 'Expired' END
            FROM training_job_leases WHERE job_id = ANY(@jobs) OR (ended_at IS NULL AND expires_at <= now())
            """, ("jobs", jobIds.ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var states = new Dictionary<string, JobLeaseState>();
        while (await reader.ReadAsync(cancellationToken))
        {
            states[reader.GetString(0)] = Enum.Parse<JobLeaseState>(reader.GetString(1));
        }

        return states;
    }

    public async Task<JobLeaseState> StateAsync(string jobId, CancellationToken cancellationToken) =>
        (await StatesAsync([jobId], cancellationToken)).GetValueOrDefault(jobId);

    private async Task<int> ExecuteAsync(string sql, string jobId, CancellationToken cancellationToken)
    {
        await schema.EnsureCreatedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(sql, cancellationToken, ("job", jobId), ("owner", Owner), ("duration", Duration));
    }
}
