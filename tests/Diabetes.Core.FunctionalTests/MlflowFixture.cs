using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>The services as the platform's services register them.</summary>
    public IServiceProvider Services => _services;

    /// <summary>Starts a double answering as MLflow <paramref name="version"/> (see <see cref="MlflowServerDouble.StartAsync"/>).</summary>
    public static async Task<MlflowFixture> StartAsync(string version = MlflowServerDouble.Mlflow3, IReadOnlyList<string>? allowedHosts = null)
    {
        var server = await MlflowServerDouble.StartAsync(version, allowedHosts);
        return new MlflowFixture(server, MlflowClients.Create(server.BaseAddress));
    }

    /// <summary>The requests the server answered whose path (and query) contains <paramref name="pathPart"/>.</summary>
    public ReceivedRequest[] Requests(string pathPart) => Server.Requests(pathPart);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Server.DisposeAsync();
    }
}
