using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Diabetes.Core.Http;

public static class ResilienceExtensions
{
    /// <summary>
    /// Replaces, for this client only, the standard resilience handler that the service defaults give every client,
    /// with one configured here (longer timeouts, another retry rule). HttpClient's own 100 s timeout is lifted so
    /// that the handler's timeouts are the ones that apply.
    /// </summary>
    public static IHttpClientBuilder ReplaceStandardResilienceHandler(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions> configure)
    {
        builder.ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is an evaluation API; it is the way to replace the default handler for one client.
        builder.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.AddStandardResilienceHandler(configure);
        return builder;
    }
}
