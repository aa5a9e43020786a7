using Diabetes.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Infrastructure: PostgreSQL, MinIO and MLflow as containers, or servers that exist already (Infrastructure:Mode=External).
var external = Infrastructure.IsExternal(builder.Configuration);
var infrastructure = external ? Infrastructure.AddExternal(builder) : Infrastructure.AddContainers(builder);

// Services. The dashboard's commands drive the pipeline by hand; Airflow drives it on a schedule.
var datasetSource = builder.AddParameter("dataset-source",
        new ValueParameterDefault("https://archive.ics.uci.edu/static/public/296/diabetes+130-us+hospitals+for+years+1999-2008.zip"))
    .WithDescription("Where the ingest service gets the dataset: an http(s) URL, or a .zip or .csv path it can read.");

var ingest = builder.AddProject<Projects.Diabetes_Ingest>("ingest")
    .WithConnectionStringsOnly()
    .WithReference(infrastructure.RawData).WaitFor(infrastructure.RawData)
    .WithReference(infrastructure.CleanData).WaitFor(infrastructure.CleanData)
    .WithReference(infrastructure.ObjectStore).WaitFor(infrastructure.ObjectStore)
    .WithEnvironment("Dataset__Source", datasetSource)
    .WithHttpHealthCheck("/health")
    .WithHttpCommand("/api/dataset/prepare", "Prepare dataset",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Fetch the source, split it, load validation and test", IconName = "DatabaseArrowDown" })
    .WithHttpCommand("/api/batches/next", "Load next batch",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Load the next 15,000 train rows into RAW DATA", IconName = "TableAdd" })
    .WithHttpCommand("/api/clean", "Clean",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Clean the RAW rows not yet in CLEAN DATA", IconName = "Sparkle" });

var trainer = infrastructure.UseMlflow(builder.AddProject<Projects.Diabetes_Trainer>("trainer")
        .WithConnectionStringsOnly()
        .WithReference(infrastructure.CleanData).WaitFor(infrastructure.CleanData))
    .WithHttpHealthCheck("/health")
    .WithHttpCommand("/api/trainings", "Train",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Train the candidates on all CLEAN train rows and register the best", IconName = "BrainCircuit" })
    .WithHttpCommand("/api/promotions", "Promote",
        commandOptions: new() { Method = HttpMethod.Post, Description = "Give Production to the better of the newest version and the current one", IconName = "Trophy" });

// Serving: whatever MLflow marks as Production, swapped in without a restart; every answer logged to monitoring.
var inference = infrastructure.UseMlflow(builder.AddProject<Projects.Diabetes_InferenceApi>("inference")
        .WithConnectionStringsOnly()
        .WithReference(infrastructure.Monitoring).WaitFor(infrastructure.Monitoring))
    .WithHttpHealthCheck("/health");

// Front end: the only resource reachable from outside.
infrastructure.UseMlflow(builder.AddProject<Projects.Diabetes_Web>("web")
        .WithConnectionStringsOnly()
        .WithReference(inference).WaitFor(inference))
    .WithReference(ingest)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

// Orchestration: Airflow runs the DAGs of airflow/dags against the services. In external mode an existing Airflow
// does (airflow/README.md); the parameter airflow-url only puts its UI on the dashboard.
if (infrastructure.Postgres is { } postgres)
{
    var airflowdb = postgres.AddDatabase("airflowdb");
    var airflowPassword = builder.AddParameter("airflow-admin-password", new GenerateParameterDefault { MinLength = 16, Special = false }, secret: true, persist: true)
        .WithDescription("Password of the Airflow user admin.");
    var airflowJwtSecret = builder.AddParameter("airflow-jwt-secret", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true)
        .WithDescription("Key that signs the tokens Airflow's components give each other.");
    builder.AddAirflow("airflow", postgres, airflowdb, airflowPassword, airflowJwtSecret)
        .WithConnection("ingest_api", ingest).WaitFor(ingest)
        .WithConnection("trainer_api", trainer).WaitFor(trainer)
        // Started, not healthy: inference is Unhealthy while the Production version is refused, and the DAGs that
        // train and promote a better one must run meanwhile.
        .WithConnection("inference_api", inference).WaitForStart(inference)
        .WithScheduleFromConfiguration("DIABETES_DATA_SCHEDULE")
        .WithScheduleFromConfiguration("DIABETES_TRAINING_SCHEDULE")
        .WithScheduleFromConfiguration("DIABETES_MONITORING_SCHEDULE");
}
else if (external && !string.IsNullOrEmpty(builder.Configuration["Parameters:airflow-url"]))
{
    builder.AddExternalService("airflow", builder.AddParameter("airflow-url"));
}

var app = builder.Build();

// Without a container runtime, container mode could only start a dashboard that waits forever: say so and stop.
if (!external && builder.ExecutionContext.IsRunMode && await ContainerRuntimeCheck.FindProblemAsync(app.Services) is { } problem)
{
    await Console.Error.WriteLineAsync(problem);
    return ContainerRuntimeCheck.ExitCode;
}

await app.RunAsync();
return 0;

internal static class ServiceResourceExtensions
{
    /// <summary>
    /// A reference gives a service its connection string (and service discovery) only, not Aspire 13's extra
    /// per-property variables: the services read nothing else, and the manifest stays readable by aspirate.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithConnectionStringsOnly(this IResourceBuilder<ProjectResource> builder) =>
        builder.WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery);
}
