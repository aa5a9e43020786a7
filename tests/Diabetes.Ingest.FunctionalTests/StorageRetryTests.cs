using System.Net;
using Diabetes.Core.Storage;
using Diabetes.Ingest.Services;
using Diabetes.Testing;
using Minio.DataModel.Args;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Registry;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>Which failures of storage are tried again: those that may pass, not refusals that would come again.</summary>
public class StorageRetryTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    public void AnObjectStoreAnswerIsTransientOnlyWhenItMayPass(HttpStatusCode? status, bool transient)
    {
        var failure = new HttpRequestException("PUT s3://datasets/key", null, status);

        Assert.Equal(transient, StorageRetry.IsTransient(failure));
        Assert.Equal(transient, StorageRetry.IsTransient(new InvalidOperationException("wrapped", failure)));
    }

    [Fact]
    public void ARefusalTheServiceDecidedIsFinalWhateverCausedIt()
    {
        var unreachableSource = new HttpRequestException("GET https://archive.ics.uci.edu/…: connection refused");

        Assert.True(StorageRetry.IsTransient(unreachableSource));
        Assert.False(StorageRetry.IsTransient(new IngestProblemException(502, "The dataset source could not be fetched", "…", unreachableSource)));
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, 4)]
    [InlineData(HttpStatusCode.Forbidden, 1)]
    public async Task TheRetryTriesAgainWhatIsTransientEvenWhenWrapped(HttpStatusCode status, int attempts)
    {
        // Arrange: the pipeline as the service registers it
        await using var services = new ServiceCollection().AddLogging()
            .AddResiliencePipeline(StorageRetry.Name, StorageRetry.Configure).BuildServiceProvider();
        var pipeline = services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(StorageRetry.Name);
        var tried = 0;

        // Act
        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.ExecuteAsync(_ =>
        {
            tried++;
            throw new InvalidOperationException("wrapped", new HttpRequestException("PUT s3://datasets/key", null, status));
        }).AsTask());

        // Assert: three more tries for a failure that may pass, none for a refusal
        Assert.Equal(attempts, tried);
    }
}

/// <summary>How MinIO's client reports an object store's answers, against a server that gives them.</summary>
public sealed class MinioAnswerTests : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;
    private (int Status, string Body) _answer;

    public MinioAnswerTests() => _server = new LoopbackHttpServer(AnswerAsync);

    [Theory]
    [InlineData(503, "", true)]
    [InlineData(500, "", true)]
    [InlineData(503, "SlowDown", true)]
    [InlineData(500, "InternalError", true)]
    [InlineData(403, "AccessDenied", false)]
    [InlineData(403, "", false)]
    [InlineData(404, "", false)]
    public async Task AServerErrorIsTransientAndARefusalIsNot(int status, string s3Code, bool transient)
    {
        // Arrange: every request about the object is answered so (a HEAD without a body, a GET with S3's error document)
        _answer = (status, s3Code.Length == 0 ? "" :
            $"<?xml version=\"1.0\"?><Error><Code>{s3Code}</Code><Message>as told</Message><Resource>/datasets/key</Resource><RequestId>1</RequestId></Error>");
        var client = MinioConnection.Parse($"Endpoint={_server.BaseUrl.TrimEnd('/')};AccessKey=test;SecretKey=test").CreateClient();

        // Act
        var failure = await Record.ExceptionAsync(() => s3Code.Length == 0
            ? client.StatObjectAsync(new StatObjectArgs().WithBucket("datasets").WithObject("key"))
            : client.GetObjectAsync(new GetObjectArgs().WithBucket("datasets").WithObject("key").WithCallbackStream(_ => { })));

        // Assert
        Assert.NotNull(failure);
        Assert.Equal(transient, StorageRetry.IsTransient(failure));
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        // The client asks for the bucket's region first: that one is answered.
        var (status, body) = context.Request.Url!.Query.Contains("location", StringComparison.Ordinal)
            ? (200, "<?xml version=\"1.0\"?><LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">us-east-1</LocationConstraint>")
            : _answer;
        var bytes = System.Text.Encoding.UTF8.GetBytes(context.Request.HttpMethod == "HEAD" ? "" : body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
