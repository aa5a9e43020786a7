using Microsoft.AspNetCore.Mvc.Testing;

namespace Diabetes.Testing;

/// <summary>
/// A service of the platform started by a test, whose clients wait for an answer as long as <see cref="ServiceCalls.Timeout"/>;
/// shared as source by the test projects that start a service (they reference its Program).
/// </summary>
public abstract class ServiceFactory<TProgram> : WebApplicationFactory<TProgram> where TProgram : class
{
    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.Timeout = ServiceCalls.Timeout;
    }
}
