using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Minio;

namespace Diabetes.Core.FunctionalTests;

/// <summary>A fresh MLflow double and a client wired as the services wire it (standard resilience, typed errors).</summary>
public sealed class MlflowFixture : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private MlflowFixture(MlflowServerDouble server, ServiceProvider services)
    {
        Server = server;
        _services = services;
        Client = services.GetRequiredService<MlflowClient>();
    }

    public MlflowServerDouble Server { get; }

    public MlflowClient Client { get; }

    public IMlflowApi Api => Client.Api;

    public static async Task<MlflowFixture> StartAsync()
    {
        var server = await MlflowServerDouble.StartAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        services.AddSingleton(_ => TestServers.CreateMinioClient());
        services.AddMlflowClient(server.BaseAddress);
        return new MlflowFixture(server, services.BuildServiceProvider());
    }

    /// <summary>The requests the server answered for one path, as "METHOD path status".</summary>
    public string[] Requests(string pathPart)
    {
        lock (Server.RequestLog)
        {
            return Server.RequestLog.Where(r => r.Contains(pathPart, StringComparison.Ordinal)).ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Server.DisposeAsync();
    }
}
