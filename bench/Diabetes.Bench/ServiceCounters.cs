using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace Diabetes.Bench;

/// <summary>
/// A service's counters read from outside its process, as dotnet-counters reads them: an EventPipe session on the
/// runtime's <c>System.Diagnostics.Metrics</c> event source, which publishes every second, for each counter and set of
/// tags, the total since the session started.
/// </summary>
public sealed class ServiceCounters : IAsyncDisposable
{
    private const string MetricsSource = "System.Diagnostics.Metrics";

    private readonly EventPipeSession _session;
    private readonly EventPipeEventSource _events;
    private readonly Task _reading;
    private readonly ConcurrentDictionary<(string Instrument, string Tags), double> _totals = new();
    private long _publications;

    /// <summary>
    /// Starts reading <paramref name="counters"/> (each a meter and one of its counters) in process
    /// <paramref name="processId"/>; only those, so that the service does not pay for aggregating the others (its latency
    /// histogram, for one). A process takes one such session at a time.
    /// </summary>
    public ServiceCounters(int processId, params (string Meter, string Counter)[] counters)
    {
        var sessionId = Guid.NewGuid().ToString("N");
        var provider = new EventPipeProvider(MetricsSource, EventLevel.Informational, keywords: 0x3 /* messages and time series */,
            arguments: new Dictionary<string, string>
            {
                ["SessionId"] = sessionId,
                ["Metrics"] = string.Join(",", counters.Select(counter => $"{counter.Meter}\\{counter.Counter}")),
                ["RefreshInterval"] = "1",
                ["MaxTimeSeries"] = "1000",
                ["MaxHistograms"] = "20",
            });
        _session = new DiagnosticsClient(processId).StartEventPipeSession([provider], requestRundown: false);
        _events = new EventPipeEventSource(_session.EventStream);
        _events.Dynamic.All += e =>
        {
            if (e.ProviderName != MetricsSource || (string)e.PayloadByName("sessionId") != sessionId)
            {
                return;
            }

            switch (e.EventName)
            {
                case "CounterRateValuePublished":
                    _totals[((string)e.PayloadByName("instrumentName"), (string)e.PayloadByName("tags"))] =
                        double.Parse((string)e.PayloadByName("value"), CultureInfo.InvariantCulture);
                    break;
                case "Collection/Stop":
                    Interlocked.Increment(ref _publications);
                    break;
                case "Error" or "MultipleSessionsNotSupportedError" or "TimeSeriesLimitReached":
                    Console.Error.WriteLine($"  counters of process {processId}: {e.EventName} {e.PayloadString(0)}");
                    break;
            }
        };
        _reading = Task.Run(_events.Process);
    }

    /// <summary>A counter's total since the session started, over all its tags.</summary>
    public long Total(string instrument) => (long)_totals.Where(t => t.Key.Instrument == instrument).Sum(t => t.Value);

    /// <summary>Waits for the next publication that starts after now, so that the totals include what happened before.</summary>
    public async Task RefreshAsync()
    {
        var seen = Interlocked.Read(ref _publications);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref _publications) < seen + 2)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The service published no counters for 30 s.");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _session.StopAsync(CancellationToken.None);
        await _reading;
        _events.Dispose();
        _session.Dispose();
    }
}
