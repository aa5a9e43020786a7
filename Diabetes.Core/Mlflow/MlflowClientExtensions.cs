using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Diabetes.Core.Http;
using Polly;
using Refit;

namespace Diabetes.Core.Mlflow;

public static class MlflowClientExtensions
{
    /// <summary>The resource name of the MLflow server; service discovery resolves <c>http://mlflow</c>.</summary>
    public const string ServiceName = "mlflow";

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// Registers <see cref="IMlflowApi"/> and <see cref="MlflowClient"/> for the server at <c>http://mlflow</c> (or
    /// <paramref name="baseAddress"/>). Bodies go as <c>application/json</c> (the server refuses text/plain) and always
    /// with a <c>Content-Length</c> (MLflow 3 under uvicorn reads a chunked body as empty: <see cref="ContentLengthHandler"/>); error
    /// answers become typed <see cref="MlflowException"/>s; only what may pass is retried: no connection, a timeout,
    /// 408, 429, 502, 503, 504 (a POST, which may create a run or a version, only when no connection was made). A 500
    /// is not retried: MLflow answers it for faults that stay (a missing artifact).
    /// </summary>
    public static IServiceCollection AddMlflowClient(this IServiceCollection services, Uri? baseAddress = null)
    {
        var settings = new RefitSettings
        {
            ContentSerializer = new SystemTextJsonContentSerializer(JsonOptions),
            ExceptionFactory = async response => response.IsSuccessStatusCode ? null : await MlflowException.FromResponseAsync(response),
        };

        services.AddRefitGeneratedClient<IMlflowApi>(settings, ServiceName)
            .ConfigureHttpClient(client => client.BaseAddress = baseAddress ?? new Uri($"http://{ServiceName}"))
            .ReplaceStandardResilienceHandler(options =>
            {
                options.Retry.ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context));
                // Artifacts (a model, plots) may take longer than the default 10 s an attempt.
                options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(60);
                options.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(3);
                options.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(2);
            })
            // Inside the resilience handler: every attempt goes out with the same buffered body.
            .AddHttpMessageHandler(() => new ContentLengthHandler());
        // The readiness probe's own client: one attempt, a short timeout (service discovery stays, retries go).
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is an evaluation API; it is the way to drop the default handler for one client.
        services.AddHttpClient(MlflowHealthCheck.ProbeClientName, client =>
            {
                client.BaseAddress = baseAddress ?? new Uri($"http://{ServiceName}");
                client.Timeout = MlflowHealthCheck.ProbeTimeout;
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddSingleton<MlflowClient>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (context.GetRequestMessage() is { Method.Method: "POST" })
        {
            // A POST may have been carried out although its answer was lost: send it again only if it never left.
            return outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };
        }

        return outcome switch
        {
            { Exception: HttpRequestException or Polly.Timeout.TimeoutRejectedException } => true,
            { Result.StatusCode: HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
                or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout } => true,
            _ => false,
        };
    }
}
