using Diabetes.Core.Mlflow;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Diabetes.Web.Clients;

public static class ServiceFaults
{
    /// <summary>
    /// Whether a call failed for want of the other service (down, too slow, or cut off by the circuit breaker after
    /// the resilience handler gave up), which a page says plainly, rather than through a fault of the page itself.
    /// </summary>
    public static bool IsUnreachable(Exception exception) => exception switch
    {
        HttpRequestException or TimeoutRejectedException or BrokenCircuitException => true,
        // A Refit call that answers an IApiResponse reports a request that never got an answer as its error.
        ApiExceptionBase and not ApiException => exception.InnerException is { } cause && IsUnreachable(cause),
        _ => false,
    };

    /// <summary>
    /// Whether MLflow or its artifact store failed a read: an error answer of MLflow, of the object store, or no object
    /// store configured for an <c>s3://</c> root (<see cref="ObjectStoreNotConfiguredException"/>), or either one
    /// unreachable. Anything else is a fault of the page and surfaces as one.
    /// </summary>
    public static bool IsMlflowFault(Exception exception) =>
        exception is MlflowException or Minio.Exceptions.MinioException or ObjectStoreNotConfiguredException || IsUnreachable(exception);
}
