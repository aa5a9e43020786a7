namespace Aspire.Hosting;

/// <summary>
/// A MinIO server whose connection string is <c>Endpoint=http://host:port;AccessKey=…;SecretKey=…</c>, the form
/// every service reads as <c>ConnectionStrings__minio</c>. (The community MinIO integration is not used: it is not
/// on the package feed this project builds from.)
/// </summary>
public sealed class MinioResource(string name, ParameterResource rootUser, ParameterResource rootPassword)
    : ContainerResource(name), IResourceWithConnectionString
{
    public const string ApiEndpointName = "http";
    public const string ConsoleEndpointName = "console";

    private EndpointReference? _api;

    public EndpointReference Api => _api ??= new(this, ApiEndpointName);

    public ParameterResource RootUser { get; } = rootUser;

    public ParameterResource RootPassword { get; } = rootPassword;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Endpoint=http://{Api.Property(EndpointProperty.HostAndPort)};AccessKey={RootUser};SecretKey={RootPassword}");
}

public static class MinioResourceBuilderExtensions
{
    // MinIO stopped publishing images in October 2025 and Docker Hub's minio/minio is gone; Quay keeps the
    // archived community images. Pinned: no floating tag.
    private const string Registry = "quay.io";
    private const string Image = "minio/minio";
    private const string Tag = "RELEASE.2025-09-07T16-13-09Z.hotfix.7aa24e772";

    public static IResourceBuilder<MinioResource> AddMinio(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> rootUser,
        IResourceBuilder<ParameterResource> rootPassword) =>
        builder.AddResource(new MinioResource(name, rootUser.Resource, rootPassword.Resource))
            .WithImage(Image, Tag)
            .WithImageRegistry(Registry)
            .WithArgs("server", "/data", "--console-address", ":9001")
            .WithEnvironment("MINIO_ROOT_USER", rootUser)
            .WithEnvironment("MINIO_ROOT_PASSWORD", rootPassword)
            .WithHttpEndpoint(targetPort: 9000, name: MinioResource.ApiEndpointName)
            .WithHttpEndpoint(targetPort: 9001, name: MinioResource.ConsoleEndpointName)
            // The image has no curl: probe the HTTP liveness endpoint from outside.
            .WithHttpHealthCheck("/minio/health/live", endpointName: MinioResource.ApiEndpointName);

    public static IResourceBuilder<MinioResource> WithDataVolume(this IResourceBuilder<MinioResource> builder) =>
        builder.WithVolume($"{builder.Resource.Name}-data", "/data");
}
