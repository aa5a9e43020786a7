using System.Net.Http.Headers;

namespace Diabetes.Core.FunctionalTests;

/// <summary>A body whose length is not known in advance: HttpClient sends it with <c>Transfer-Encoding: chunked</c>.</summary>
internal static class UnknownLengthContent
{
    public static HttpContent Create(byte[] bytes, string mediaType)
    {
        var content = new StreamContent(new UnseekableStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
