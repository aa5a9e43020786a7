using System.Net;
using System.Net.Sockets;
using Diabetes.Ingest.Apis;
using Diabetes.Testing;
using Microsoft.AspNetCore.Http;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>A source given as a URL, served from the loopback as UCI would serve it.</summary>
public sealed class HttpSourceTests : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private int _downloads;

    public HttpSourceTests()
    {
        BaseUrl = $"http://127.0.0.1:{FreePort()}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _serving = ServeAsync();
    }

    private string BaseUrl { get; }

    [Fact]
    public async Task DownloadsTheSourceOnceAndPreparesFromIt()
    {
        // Arrange
        await using var app = await IngestApp.StartAsync($"{BaseUrl}static/public/296/diabetes.zip");

        // Act
        var first = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");
        var second = await app.PostAsync<PrepareResponse>("/api/dataset/prepare");

        // Assert
        Assert.Equal(TestData.EncounterCount, first.Rows);
        Assert.Equal(first, second);
        Assert.Equal(1, _downloads);
        Assert.Equal($"{BaseUrl}static/public/296/diabetes.zip",
            await app.RawScalarAsync<string>("SELECT location FROM dataset_sources"));
    }

    [Fact]
    public async Task AnUnreachableSourceIsABadGatewayAndLoadsNothing()
    {
        await using var app = await IngestApp.StartAsync($"{BaseUrl}missing.zip");

        var problem = await app.PostExpectingProblemAsync("/api/dataset/prepare", StatusCodes.Status502BadGateway);

        Assert.Contains("404", problem.Detail);
        Assert.Equal(0, await app.RawScalarAsync<long>("SELECT count(*) FROM raw_encounters"));
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
            if (context.Request.Url!.AbsolutePath.EndsWith("diabetes.zip", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _downloads);
                var content = await File.ReadAllBytesAsync(TestData.DatasetZip);
                response.ContentType = "application/zip";
                response.ContentLength64 = content.Length;
                await response.OutputStream.WriteAsync(content);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
        _listener.Close();
    }
}
