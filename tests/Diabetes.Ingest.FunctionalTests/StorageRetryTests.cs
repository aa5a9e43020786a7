using System.Net;
using Diabetes.Ingest.Services;
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
