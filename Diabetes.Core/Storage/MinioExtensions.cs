using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Minio;
using Minio.DataModel.Args;

namespace Diabetes.Core.Storage;

public static class MinioExtensions
{
    /// <summary>
    /// Registers an <see cref="IMinioClient"/> for the connection string <paramref name="connectionName"/> and a
    /// readiness check that lists the buckets, so <c>/health</c> says when the object store is down.
    /// </summary>
    public static IHostApplicationBuilder AddMinioClient(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.Services.AddSingleton(_ =>
        {
            var connectionString = builder.Configuration.GetConnectionString(connectionName)
                ?? throw new InvalidOperationException(
                    $"The connection string '{connectionName}' is not set (ConnectionStrings__{connectionName}).");
            return MinioConnection.Parse(connectionString).CreateClient();
        });

        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new MinioHealthCheck(services.GetRequiredService<IMinioClient>()),
            HealthStatus.Unhealthy,
            tags: ["ready"],
            timeout: TimeSpan.FromSeconds(5)));

        return builder;
    }

    /// <summary>Creates the bucket unless it exists. Nobody creates buckets for us: not MinIO, not the AppHost.</summary>
    public static async Task EnsureBucketAsync(this IMinioClient client, string bucket, CancellationToken cancellationToken)
    {
        if (await client.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), cancellationToken))
        {
            return;
        }

        try
        {
            await client.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket), cancellationToken);
        }
        catch (Minio.Exceptions.MinioException)
        {
            // Another caller may have created it in between, which is what we wanted; anything else stands.
            if (!await client.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), cancellationToken))
            {
                throw;
            }
        }
    }

    private sealed class MinioHealthCheck(IMinioClient client) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await client.ListBucketsAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy("The object store does not answer.", exception);
            }
        }
    }
}
