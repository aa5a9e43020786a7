namespace Diabetes.Core.Http;

/// <summary>
/// Sends every request body with a <c>Content-Length</c>, buffering a body whose length is not known in advance
/// (JSON written as it is serialized, a stream), which HttpClient would otherwise send with
/// <c>Transfer-Encoding: chunked</c>. MLflow 3 serves its REST API under uvicorn, whose WSGI bridge hands Flask an
/// empty body when it arrives chunked: a JSON call then fails with "Missing value for required parameter", and an
/// artifact upload stores an empty file. Python servers behind gunicorn (MLflow 2) read both.
/// </summary>
public sealed class ContentLengthHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { Headers.ContentLength: null } content)
        {
            // Once buffered, the content knows its length, and HttpClient sends it as Content-Length.
            await content.LoadIntoBufferAsync(cancellationToken);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
