var builder = DistributedApplication.CreateBuilder(args);

// Infrastructure. Secrets are parameters: generated once and kept in user secrets locally, Secrets in Kubernetes.
var postgresPassword = builder.AddParameter("postgres-password", new GenerateParameterDefault { MinLength = 22, Special = false }, secret: true, persist: true)
    .WithDescription("Password of the PostgreSQL superuser.");
var postgres = builder.AddPostgres("postgres", password: postgresPassword)
    .WithDataVolume("postgres-data");
var rawdata = postgres.AddDatabase("rawdata");
var cleandata = postgres.AddDatabase("cleandata");
var mlflowdb = postgres.AddDatabase("mlflowdb");

var minioUser = builder.AddParameter("minio-user", "diabetes", publishValueAsDefault: true)
    .WithDescription("MinIO root user (the S3 access key of the services).");
var minioPassword = builder.AddParameter("minio-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true)
    .WithDescription("MinIO root password (the S3 secret key of the services).");
var minio = builder.AddMinio("minio", minioUser, minioPassword)
    .WithDataVolume();

// MLflow: metadata in PostgreSQL, artifacts in MinIO (served through the server), restarted when it stops.
var mlflow = builder.AddDockerfile("mlflow", "../mlflow")
    .WithHttpEndpoint(targetPort: 5000, name: "http")
    .WithEnvironment("MLFLOW_BACKEND_STORE_URI", ReferenceExpression.Create(
        $"postgresql+psycopg2://postgres:{postgresPassword}@{postgres.Resource.PrimaryEndpoint.Property(EndpointProperty.Host)}:{postgres.Resource.PrimaryEndpoint.Property(EndpointProperty.Port)}/mlflowdb"))
    .WithEnvironment("MLFLOW_ARTIFACTS_DESTINATION", "s3://mlflow")
    .WithEnvironment("MLFLOW_S3_ENDPOINT_URL", ReferenceExpression.Create($"http://{minio.Resource.Api.Property(EndpointProperty.HostAndPort)}"))
    .WithEnvironment("AWS_ACCESS_KEY_ID", minioUser)
    .WithEnvironment("AWS_SECRET_ACCESS_KEY", minioPassword)
    .WithEnvironment("MLFLOW_SERVER_ALLOWED_HOSTS", "mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*")
    .WaitFor(mlflowdb)
    .WaitFor(minio)
    .WithHttpHealthCheck("/health");

// Services.
var datasetSource = builder.AddParameter("dataset-source",
        "https://archive.ics.uci.edu/static/public/296/diabetes+130-us+hospitals+for+years+1999-2008.zip", publishValueAsDefault: true)
    .WithDescription("Where the ingest service gets the dataset: an http(s) URL, or a .zip or .csv path it can read.");

var ingest = builder.AddProject<Projects.Diabetes_Ingest>("ingest")
    .WithConnectionStringsOnly()
    .WithReference(rawdata).WaitFor(rawdata)
    .WithReference(cleandata).WaitFor(cleandata)
    .WithReference(minio).WaitFor(minio)
    .WithEnvironment("Dataset__Source", datasetSource)
    .WithHttpHealthCheck("/health")
    .WithHttpCommand("/api/dataset/prepare", "Prepare dataset",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Fetch the source, split it, load validation and test", IconName = "DatabaseArrowDown" })
    .WithHttpCommand("/api/batches/next", "Load next batch",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Load the next 15,000 train rows into RAW DATA", IconName = "TableAdd" })
    .WithHttpCommand("/api/clean", "Clean",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Clean the RAW rows not yet in CLEAN DATA", IconName = "Sparkle" });

builder.AddProject<Projects.Diabetes_Trainer>("trainer")
    .WithConnectionStringsOnly()
    .WithReference(cleandata).WaitFor(cleandata)
    .WithReference(mlflow.GetEndpoint("http")).WaitFor(mlflow)
    .WithHttpHealthCheck("/health")
    .WithHttpCommand("/api/trainings", "Train",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Train the candidates on all CLEAN train rows and register the best", IconName = "BrainCircuit" })
    .WithHttpCommand("/api/promotions", "Promote",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Give Production to the better of the newest version and the current one", IconName = "Trophy" });

// Serving: whatever MLflow marks as Production, swapped in without a restart.
var inference = builder.AddProject<Projects.Diabetes_InferenceApi>("inference")
    .WithConnectionStringsOnly()
    .WithReference(mlflow.GetEndpoint("http")).WaitFor(mlflow)
    .WithHttpHealthCheck("/health");

// Front end: the only resource reachable from outside.
builder.AddProject<Projects.Diabetes_Web>("web")
    .WithConnectionStringsOnly()
    .WithReference(inference).WaitFor(inference)
    .WithReference(mlflow.GetEndpoint("http"))
    .WithReference(ingest)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();

internal static class ServiceResourceExtensions
{
    /// <summary>
    /// A reference gives a service its connection string (and service discovery) only, not Aspire 13's extra
    /// per-property variables: the services read nothing else, and the manifest stays readable by aspirate.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithConnectionStringsOnly(this IResourceBuilder<ProjectResource> builder) =>
        builder.WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery);
}
