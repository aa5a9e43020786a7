using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Diabetes.MlflowDouble;

// What MLflow 3 answers where 2.17 answered otherwise, beyond the chunked bodies read in the request handling.
public sealed partial class MlflowServerDouble
{
    /// <summary>The most values one metric-history page may ask for.</summary>
    private const int MaxHistoryResults = 25_000;

    private const string InvalidHostMessage = "Invalid Host header - possible DNS rebinding attack detected";

    /// <summary>The server's default <c>--allowed-hosts</c>: localhost and the private address ranges.</summary>
    private static readonly string[] DefaultAllowedHosts =
    [
        "localhost", "localhost:*", "127.0.0.1", "127.0.0.1:*", "[::1]", "[[]::1]:*", "0.0.0.0", "0.0.0.0:*",
        "192.168.*", "10.*", .. Enumerable.Range(16, 16).Select(n => $"172.{n}.*"), "fc00:*", "fd00:*",
    ];

    /// <summary>The <c>sqlstate</c> and <c>error_class</c> MLflow 3 adds to an error of each code.</summary>
    private static readonly Dictionary<string, (string SqlState, string ErrorClass)> ErrorClassification = new(StringComparer.Ordinal)
    {
        ["RESOURCE_DOES_NOT_EXIST"] = ("KAM00", "RESOURCE_NOT_FOUND"),
        ["INVALID_PARAMETER_VALUE"] = ("KAM00", "INVALID_PARAMETER_VALUE"),
        ["RESOURCE_ALREADY_EXISTS"] = ("KAM00", "RESOURCE_ALREADY_EXISTS"),
        ["INTERNAL_ERROR"] = ("XXM00", "CLIENT_INTERNAL_ERROR"),
    };

    private readonly IReadOnlyList<string> _allowedHosts;

    /// <summary>
    /// MLflow 3.5+'s guard against DNS rebinding: the whole Host header (port included) must match one allowed pattern
    /// (shell wildcards, as Python's fnmatch); <c>/health</c> and <c>/version</c> are exempt, and <c>*</c> allows all.
    /// </summary>
    private bool IsHostAllowed(HttpRequest request)
    {
        if (request.Path.Value is "/health" or "/version" || _allowedHosts.Contains("*"))
        {
            return true;
        }

        var host = request.Host.Value;
        return !string.IsNullOrEmpty(host) && _allowedHosts.Any(pattern => pattern.Contains('*')
            ? Regex.IsMatch(host, WildcardToRegex(pattern))
            : host == pattern);
    }

    /// <summary>A shell wildcard (<c>*</c>, <c>?</c>, <c>[…]</c>, <c>[!…]</c>) as an anchored regular expression.</summary>
    private static string WildcardToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            // As in fnmatch, a ']' right after '[' belongs to the set; a '[' never closed is a literal.
            var end = pattern[i] == '[' && i + 2 < pattern.Length ? pattern.IndexOf(']', i + 2) : -1;
            if (end > 0)
            {
                var set = pattern[(i + 1)..end];
                regex.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                i = end;
                continue;
            }

            regex.Append(pattern[i] switch
            {
                '*' => ".*",
                '?' => ".",
                var c => Regex.Escape(c.ToString()),
            });
        }

        return regex.Append('$').ToString();
    }

    /// <summary>Headers the 3.x security middleware adds to every answer it lets through.</summary>
    private static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers["X-Frame-Options"] = "SAMEORIGIN";
    }
}
