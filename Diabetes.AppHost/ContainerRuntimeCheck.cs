#pragma warning disable ASPIRECONTAINERRUNTIME001 // Aspire's own runtime choice, so that the check asks the runtime Aspire would use.
using Aspire.Hosting.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.AppHost;

/// <summary>
/// Container mode starts PostgreSQL, MinIO, MLflow and Airflow as containers. Without a running container runtime
/// Aspire would start the dashboard and its orchestrator, fail to create the first volume, and keep running with
/// nothing to serve; so before anything starts, the AppHost asks the runtime Aspire picks (Docker or Podman, or the
/// one <c>ASPIRE_CONTAINER_RUNTIME</c> names) whether it runs, and stops with one message when it does not.
/// </summary>
internal static class ContainerRuntimeCheck
{
    public const int ExitCode = 1;

    /// <summary>
    /// The message for a machine without a running container runtime, or null when the runtime answers.
    /// </summary>
    public static async Task<string?> FindProblemAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var runtime = await services.GetRequiredService<IContainerRuntimeResolver>().ResolveAsync(cancellationToken);
        if (await runtime.CheckIfRunningAsync(cancellationToken))
        {
            return null;
        }

        return $"""
            Container mode (the default) runs PostgreSQL, MinIO, MLflow and Airflow as containers,
            but the container runtime '{runtime.Name}' is not installed or not running.
            Start Docker or Podman (ASPIRE_CONTAINER_RUNTIME=docker or podman picks one), or run the
            services against servers that exist already, with no container at all:

              dotnet run --project Diabetes.AppHost -- {Infrastructure.ModeKey}={Infrastructure.ExternalMode} \
                "ConnectionStrings:rawdata=Host=…;Database=rawdata;Username=…;Password=…" \
                "ConnectionStrings:cleandata=Host=…;Database=cleandata;Username=…;Password=…" \
                "ConnectionStrings:minio=Endpoint=http://…:9000;AccessKey=…;SecretKey=…" \
                Parameters:mlflow-url=http://…:5000/

            docs/local-run.md explains both modes.
            """;
    }
}
