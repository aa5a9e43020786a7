using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A fault a service answers as such, not as a 500: another server down (503, with <c>Retry-After</c>), an unusable
/// answer of another server (502), a conflict (409), a request it cannot carry out (422).
/// </summary>
public sealed record ProblemAnswer(int StatusCode, string Title, string Detail, TimeSpan? RetryAfter = null)
{
    /// <summary>How long a caller should wait before trying a request again that failed on a server being down.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(10);

    public static ProblemAnswer Unavailable(string server, string detail) =>
        new(StatusCodes.Status503ServiceUnavailable, $"{server} is unavailable", detail, DefaultRetryAfter);

    /// <summary>Writes the answer as ProblemDetails, with its status and <c>Retry-After</c> when it has one.</summary>
    public async ValueTask<bool> WriteAsync(HttpContext httpContext, IProblemDetailsService problemDetails, Exception exception)
    {
        httpContext.Response.StatusCode = StatusCode;
        if (RetryAfter is { } delay)
        {
            httpContext.Response.Headers.RetryAfter = ((int)delay.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = StatusCode, Title = Title, Detail = Detail },
        });
    }
}
