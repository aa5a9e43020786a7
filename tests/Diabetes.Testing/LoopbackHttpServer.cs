using System.Net;
using System.Net.Sockets;

namespace Diabetes.Testing;

/// <summary>An HTTP server on the loopback that answers every request with <c>respond</c>: a stand-in for a remote server.</summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<HttpListenerContext, Task> _respond;
    private readonly Task _serving;

    public LoopbackHttpServer(Func<HttpListenerContext, Task> respond)
    {
        _respond = respond;
        BaseUrl = $"http://127.0.0.1:{FreePort()}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _serving = ServeAsync();
    }

    /// <summary>The server's address, ending with a slash.</summary>
    public string BaseUrl { get; }

    /// <summary>A TCP port of the loopback that nothing listens on at the moment.</summary>
    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }

            using var response = context.Response;
            await _respond(context);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
        _listener.Close();
    }
}
