using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Microsoft.Extensions.Options;

namespace Diabetes.InferenceApi.Serving;

/// <summary>
/// Asks MLflow every <see cref="ServingOptions.RefreshInterval"/> which version holds Production (alias
/// <c>production</c>, else stage Production); a new one is loaded and checked here, off the request path, and then
/// swapped in. While MLflow cannot be reached, what is loaded keeps serving. A version that fails its checks is logged
/// once and never loaded again (a new version is registered to fix it); one whose files could not be fetched is tried
/// again at each refresh, and said once per distinct error.
/// </summary>
public sealed partial class ProductionModelWatcher(
    MlflowClient mlflow,
    ModelLoader loader,
    ServingState state,
    ServingTelemetry telemetry,
    IOptions<ServingOptions> options,
    TimeProvider timeProvider,
    ILogger<ProductionModelWatcher> logger) : BackgroundService
{
    /// <summary>How long one look at the registry may take, retries included, before MLflow counts as unreachable.</summary>
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The versions refused for good, by identity, with why. Only the loop touches it.</summary>
    private readonly Dictionary<string, LoadProblem> _rejected = [];
    private string? _lastFetchError;
    private bool _reportedNoProduction;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await RefreshAsync(stoppingToken);
            await Task.Delay(options.Value.RefreshInterval, timeProvider, stoppingToken);
        }
    }

    /// <summary>One look at the registry, and a swap if Production has moved to a version not yet served.</summary>
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var (answered, production) = await FindProductionAsync(cancellationToken);
        if (!answered)
        {
            return;
        }

        var key = production?.Identity;
        if (production is null || state.Model?.Version.Identity == key)
        {
            state.ReportProblem(null);
            return;
        }

        if (_rejected.TryGetValue(key!, out var refusal))
        {
            state.ReportProblem(refusal);
            return;
        }

        state.ReportProblem(null);

        using var activity = ServingTelemetry.ActivitySource.StartActivity("model swap");
        activity?.SetTag("model.version", production.Version);
        try
        {
            var next = await loader.LoadAsync(production, cancellationToken);
            var previous = state.Swap(next);
            _lastFetchError = null;
            telemetry.RecordSwap(next);
            LogSwapped(production.Name, production.Version, next.Metadata.Algorithm, previous?.Version.Version ?? "none");
            if (next.ExplanationProblem is { } unexplainable)
            {
                LogUnexplainable(unexplainable.Exception, production.Version, unexplainable.Reason);
            }
        }
        catch (ModelRejectedException exception)
        {
            var problem = new LoadProblem(production.Version, exception.Message, Rejected: true, timeProvider.GetUtcNow());
            _rejected[key!] = problem;
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, exception.Message);
            state.ReportProblem(problem);
            telemetry.RecordRejection(production.Version);
            LogRejected(exception, production.Name, production.Version, exception.Message, state.Model?.Version.Version ?? "none");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // MLflow or the object store failed while the files were fetched: tried again at the next refresh.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, exception.Message);
            state.ReportProblem(new LoadProblem(production.Version, exception.Message, Rejected: false, timeProvider.GetUtcNow()));
            if (_lastFetchError != $"{key} {exception.Message}")
            {
                _lastFetchError = $"{key} {exception.Message}";
                LogFetchFailed(exception, production.Version, exception.Message);
            }
        }
    }

    /// <summary>Whether MLflow answered, and the version holding Production if any.</summary>
    private async Task<(bool Answered, ModelVersion? Production)> FindProductionAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LookupTimeout);
            var production = await mlflow.GetProductionVersionAsync(ModelArtifacts.RegisteredModelName, timeout.Token);
            if (state.Mlflow.UnreachableSince is { } since)
            {
                LogReachableAgain(since);
            }

            state.RegistryAnswered(production, timeProvider.GetUtcNow());
            if (production is null && !_reportedNoProduction)
            {
                LogNoProduction(ModelArtifacts.RegisteredModelName);
            }

            _reportedNoProduction = production is null;
            return (true, production);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Down, refusing (a 403 from its Host check, a 5xx) or too slow: keep serving what is loaded.
            var message = exception is OperationCanceledException ? $"no answer within {LookupTimeout.TotalSeconds:0} s" : exception.Message;
            if (state.Mlflow.UnreachableSince is null)
            {
                LogUnreachable(exception, message, state.Model?.Version.Version ?? "none");
            }

            state.MlflowFailed(timeProvider.GetUtcNow(), message);
            return (false, null);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Now serving {Model} version {Version} ({Algorithm}); replaced version {Previous}")]
    private partial void LogSwapped(string model, string version, string algorithm, string previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Version {Version} serves without explanations: {Reason}")]
    private partial void LogUnexplainable(Exception? exception, string version, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Model} version {Version} cannot be served and will not be tried again: {Reason}. Still serving version {Current}")]
    private partial void LogRejected(Exception exception, string model, string version, string reason, string current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not fetch version {Version} ({Error}); trying again at each refresh")]
    private partial void LogFetchFailed(Exception exception, string version, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "No version of {Model} is in Production yet; predictions answer 503 until one is")]
    private partial void LogNoProduction(string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MLflow cannot be reached ({Error}); still serving version {Current}")]
    private partial void LogUnreachable(Exception exception, string error, string current);

    [LoggerMessage(Level = LogLevel.Information, Message = "MLflow answers again (unreachable since {Since:O})")]
    private partial void LogReachableAgain(DateTimeOffset since);
}
