using Microsoft.Extensions.Configuration;

namespace Diabetes.AppHost;

/// <summary>
/// The servers the services use: the three PostgreSQL databases, the S3 store and MLflow. Either started as containers
/// by the AppHost (the default), or servers that already exist, given by connection strings and a URL
/// (<c>Infrastructure:Mode=External</c>), which needs no container runtime.
/// </summary>
internal sealed class Infrastructure
{
    public const string ModeKey = "Infrastructure:Mode";
    public const string ContainersMode = "Containers";
    public const string ExternalMode = "External";

    private readonly Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> _useMlflow;

    private Infrastructure(IResourceBuilder<IResourceWithConnectionString> rawData, IResourceBuilder<IResourceWithConnectionString> cleanData,
        IResourceBuilder<IResourceWithConnectionString> monitoring, IResourceBuilder<IResourceWithConnectionString> objectStore,
        Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> useMlflow, IResourceBuilder<PostgresServerResource>? postgres)
    {
        RawData = rawData;
        CleanData = cleanData;
        Monitoring = monitoring;
        ObjectStore = objectStore;
        _useMlflow = useMlflow;
        Postgres = postgres;
    }

    public IResourceBuilder<IResourceWithConnectionString> RawData { get; }

    public IResourceBuilder<IResourceWithConnectionString> CleanData { get; }

    /// <summary>The prediction log, which the inference API writes and owns.</summary>
    public IResourceBuilder<IResourceWithConnectionString> Monitoring { get; }

    public IResourceBuilder<IResourceWithConnectionString> ObjectStore { get; }

    /// <summary>The PostgreSQL container, when the AppHost runs one (Airflow keeps its metadata there too).</summary>
    public IResourceBuilder<PostgresServerResource>? Postgres { get; }

    /// <summary>True for <c>External</c>, false for <c>Containers</c> or no value; a misspelt mode stops the AppHost.</summary>
    public static bool IsExternal(IConfiguration configuration) => configuration[ModeKey] switch
    {
        null or "" => false,
        var mode when string.Equals(mode, ContainersMode, StringComparison.OrdinalIgnoreCase) => false,
        var mode when string.Equals(mode, ExternalMode, StringComparison.OrdinalIgnoreCase) => true,
        var mode => throw new InvalidOperationException($"{ModeKey} is '{mode}': use {ContainersMode} (the default) or {ExternalMode}."),
    };

    /// <summary>Gives a service MLflow's address as <c>services__mlflow__http__0</c> and waits until MLflow is up.</summary>
    public IResourceBuilder<ProjectResource> UseMlflow(IResourceBuilder<ProjectResource> service) => _useMlflow(service);

    public static Infrastructure AddContainers(IDistributedApplicationBuilder builder)
    {
        // Secrets are parameters: generated once and kept in user secrets locally, Secrets in Kubernetes.
        var postgresPassword = builder.AddParameter("postgres-password", new GenerateParameterDefault { MinLength = 22, Special = false }, secret: true, persist: true)
            .WithDescription("Password of the PostgreSQL superuser.");
        var postgres = builder.AddPostgres("postgres", password: postgresPassword)
            .WithDataVolume("postgres-data");
        var rawdata = postgres.AddDatabase("rawdata");
        var cleandata = postgres.AddDatabase("cleandata");
        var monitoring = postgres.AddDatabase("monitoring");
        var mlflowdb = postgres.AddDatabase("mlflowdb");

        var minioUser = builder.AddParameter("minio-user", new ValueParameterDefault("diabetes"))
            .WithDescription("MinIO root user (the S3 access key of the services).");
        var minioPassword = builder.AddParameter("minio-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true)
            .WithDescription("MinIO root password (the S3 secret key of the services).");
        var minio = builder.AddMinio("minio", minioUser, minioPassword)
            .WithDataVolume();

        // MLflow: metadata in PostgreSQL, artifacts in MinIO (served through the server), restarted when it stops.
        var mlflow = builder.AddDockerfile("mlflow", "../mlflow")
            .WithHttpEndpoint(targetPort: 5000, name: "http")
            .WithUrlForEndpoint("http", url => url.DisplayText = "MLflow UI")
            .WithEnvironment("MLFLOW_BACKEND_STORE_URI", postgres.Resource.SqlAlchemyUri(mlflowdb.Resource.DatabaseName))
            .WithEnvironment("MLFLOW_ARTIFACTS_DESTINATION", "s3://mlflow")
            .WithEnvironment("MLFLOW_S3_ENDPOINT_URL", ReferenceExpression.Create($"http://{minio.Resource.Api.Property(EndpointProperty.HostAndPort)}"))
            .WithEnvironment("AWS_ACCESS_KEY_ID", minioUser)
            .WithEnvironment("AWS_SECRET_ACCESS_KEY", minioPassword)
            .WithEnvironment("MLFLOW_SERVER_ALLOWED_HOSTS", "mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*")
            .WaitFor(mlflowdb)
            .WaitFor(minio)
            .WithHttpHealthCheck("/health");

        return new Infrastructure(rawdata, cleandata, monitoring, minio,
            service => service.WithReference(mlflow.GetEndpoint("http")).WaitFor(mlflow),
            postgres);
    }

    /// <summary>
    /// Servers that exist already: <c>ConnectionStrings:rawdata</c>, <c>ConnectionStrings:cleandata</c>,
    /// <c>ConnectionStrings:monitoring</c>, <c>ConnectionStrings:minio</c> and the parameter <c>mlflow-url</c>. No
    /// container is started.
    /// </summary>
    public static Infrastructure AddExternal(IDistributedApplicationBuilder builder)
    {
        var rawdata = builder.AddConnectionString("rawdata");
        var cleandata = builder.AddConnectionString("cleandata");
        var monitoring = builder.AddConnectionString("monitoring");
        var minio = builder.AddConnectionString("minio");
        var mlflowUrl = builder.AddParameter("mlflow-url")
            .WithDescription("Base URL of the MLflow tracking server, e.g. http://mlflow.internal:5000.");
        var mlflow = builder.AddExternalService("mlflow", mlflowUrl)
            .WithHttpHealthCheck("/health");

        // The documented key, services__mlflow__http__0 (an external service's reference would write "default").
        return new Infrastructure(rawdata, cleandata, monitoring, minio,
            service => service.WithEnvironment("services__mlflow__http__0", mlflow).WithRelationship(mlflow.Resource, "Reference").WaitFor(mlflow),
            postgres: null);
    }
}
