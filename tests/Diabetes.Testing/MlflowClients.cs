using Diabetes.Core.Mlflow;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.Testing;

public static class MlflowClients
{
    /// <summary>
    /// Services holding a client of the MLflow server at <paramref name="baseAddress"/>, wired as the services wire it
    /// (standard resilience, typed errors), with the S3 server for <c>s3://</c> artifact roots. Dispose them after use.
    /// </summary>
    public static ServiceProvider Create(Uri baseAddress)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        services.AddSingleton(_ => TestServers.CreateMinioClient());
        services.AddMlflowClient(baseAddress);
        return services.BuildServiceProvider();
    }
}
