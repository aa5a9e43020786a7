using Diabetes.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.Web.BrowserTests;

/// <summary>
/// A service of the platform on a real loopback port (Kestrel, so that a browser and the other services reach it),
/// configured only through its documented keys.
/// </summary>
public sealed class ServiceHost<TProgram> : ServiceFactory<TProgram> where TProgram : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public ServiceHost(IReadOnlyDictionary<string, string?> settings)
    {
        _settings = settings;
        // Kestrel on a port the system picks, asked for through the service's own "urls" setting: UseKestrel(0) sets
        // the port by changing the server's addresses after the service has built its host, which races with a
        // minimal-hosting service that starts binding at once ("Addresses cannot be modified after the server has started").
        UseKestrel();
        StartServer();
        BaseAddress = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri BaseAddress { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
