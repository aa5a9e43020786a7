using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Diabetes.Core.Hosting;

/// <summary>
/// Work a service does once at start-up against a dependency that may not be up yet (create a bucket, tidy what a
/// previous process left): tried again until it succeeds, without holding up the service, each failure logged.
/// </summary>
public abstract class StartUpTask(ILogger logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);

    /// <summary>What the task does, for the log ("create bucket datasets").</summary>
    protected abstract string Description { get; }

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not {Task} ({Error}); trying again in {Delay}", Description, exception.Message, RetryDelay);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }
}
