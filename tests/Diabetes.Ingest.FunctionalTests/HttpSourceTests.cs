using System.Net;
using Diabetes.Ingest.Apis;
using Diabetes.Testing;
using Microsoft.AspNetCore.Http;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>A source given as a URL, served from the loopback as UCI would serve it.</summary>
public sealed class HttpSourceTests : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;
    private int _downloads;

    public HttpSourceTests() => _server = new LoopbackHttpServer(ServeAsync);

    private string BaseUrl => _server.BaseUrl;

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

    private async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
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

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
