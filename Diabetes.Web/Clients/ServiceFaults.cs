using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Diabetes.Web.Clients;

public static class ServiceFaults
{
    /// <summary>
    /// Whether a call failed for want of the other service (down, too slow, or cut off by the circuit breaker after
    /// the resilience handler gave up), which a page says plainly, rather than through a fault of the page itself.
    /// </summary>
    public static bool IsUnreachable(Exception exception) =>
        exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException;
}
