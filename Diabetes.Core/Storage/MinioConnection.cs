using System.Data.Common;
using Minio;

namespace Diabetes.Core.Storage;

/// <summary>
/// The <c>minio</c> connection string, <c>Endpoint=http://host:port;AccessKey=…;SecretKey=…</c>, as the AppHost
/// writes it and as an operator sets it for any S3-compatible server.
/// </summary>
public sealed record MinioConnection(Uri Endpoint, string AccessKey, string SecretKey)
{
    public static MinioConnection Parse(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string Required(string key) =>
            builder.TryGetValue(key, out var value) && value is string text && text.Length > 0
                ? text
                : throw new FormatException($"The minio connection string has no {key}.");

        if (!Uri.TryCreate(Required("Endpoint"), UriKind.Absolute, out var endpoint)
            || endpoint.Scheme is not ("http" or "https"))
        {
            throw new FormatException("The minio connection string's Endpoint must be an http(s) URL.");
        }

        return new MinioConnection(endpoint, Required("AccessKey"), Required("SecretKey"));
    }

    public IMinioClient CreateClient() => new MinioClient()
        .WithEndpoint(Endpoint.Host, Endpoint.Port)
        .WithSSL(Endpoint.Scheme == "https")
        .WithCredentials(AccessKey, SecretKey)
        .Build();
}
