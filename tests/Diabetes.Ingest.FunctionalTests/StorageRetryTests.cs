using System.Net;
using Diabetes.Ingest.Services;

namespace Diabetes.Ingest.FunctionalTests;

/// <summary>Which failures of storage are tried again: those that may pass, not refusals that would come again.</summary>
public class StorageRetryTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    public void AnObjectStoreAnswerIsTriedAgainOnlyWhenItIsAServerError(HttpStatusCode? status, bool transient)
    {
        var failure = new HttpRequestException("PUT s3://datasets/key", null, status);

        Assert.Equal(transient, StorageRetry.IsTransient(failure));
        Assert.Equal(transient, StorageRetry.IsTransient(new InvalidOperationException("wrapped", failure)));
    }
}
