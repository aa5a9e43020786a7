using System.Net;
using Diabetes.Core.Http;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Storage;
using Diabetes.Web.Clients;
using Refit;

namespace Diabetes.Web;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorPages();
        builder.Services.AddSingleton(TimeProvider.System);

        // A prediction is answered at once or not at all: the API's 503 ("no model yet") is an answer, not a fault to
        // wait out, so only a request that never reached the API is tried again.
        builder.Services.AddRefitGeneratedClient<IInferenceApi>()
            .ConfigureHttpClient(client => client.BaseAddress = new Uri("https+http://inference"))
            .ReplaceStandardResilienceHandler(options =>
            {
                options.Retry.MaxRetryAttempts = 2;
                options.Retry.Delay = TimeSpan.FromMilliseconds(200);
                options.Retry.ShouldHandle = args => ValueTask.FromResult(NeverReachedTheApi(args.Outcome));
                // Nor does a 503 count against the API in the circuit breaker: it is an answer.
                options.CircuitBreaker.ShouldHandle = args => ValueTask.FromResult(NeverReachedTheApi(args.Outcome));
                options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(10);
                options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(15);
            });
        builder.Services.AddRefitGeneratedClient<IIngestApi>()
            .ConfigureHttpClient(client => client.BaseAddress = new Uri("https+http://ingest"));

        // The model list and the plots are read from MLflow, through its server or from S3 for s3:// artifact roots.
        builder.Services.AddMlflowClient();
        if (!string.IsNullOrEmpty(builder.Configuration.GetConnectionString("minio")))
        {
            builder.AddMinioClient("minio");
        }

        return builder;
    }

    private static bool NeverReachedTheApi(Polly.Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };
}
