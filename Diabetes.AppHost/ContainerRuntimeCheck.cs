#pragma warning disable ASPIRECONTAINERRUNTIME001 // Aspire's own runtime choice, so that the check asks the runtime Aspire would use.
using System.ComponentModel;
using System.Diagnostics;
using Aspire.Hosting.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.AppHost;

/// <summary>
/// Container mode starts PostgreSQL, MinIO, MLflow and Airflow as containers. Without a running container runtime
/// Aspire would start the dashboard and its orchestrator, fail to create the first volume, and keep running with
/// nothing to serve; so before anything starts, the AppHost asks the runtime Aspire picks (Docker or Podman, or the
/// one <c>ASPIRE_CONTAINER_RUNTIME</c> names) whether its engine answers, and stops with one message when it does not.
/// </summary>
internal static class ContainerRuntimeCheck
{
    public const int ExitCode = 1;

    /// <summary>Long enough for an engine that is starting; an engine at an address that never answers ends here.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The message for a machine without a running container runtime, or null when its engine answers.</summary>
    public static async Task<string?> FindProblemAsync(IServiceProvider services)
    {
        using var timeout = new CancellationTokenSource(AnswerTimeout);
        string runtimeName;
        string? failure;
        try
        {
            var runtime = await services.GetRequiredService<IContainerRuntimeResolver>().ResolveAsync(timeout.Token);
            runtimeName = runtime.Name;
            failure = await AskEngineAsync(runtime.Name.ToLowerInvariant(), timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            runtimeName = "the container runtime";
            failure = $"did not answer within {AnswerTimeout.TotalSeconds:0} s";
        }

        return failure is null ? null : $"""
            Container mode (the default) runs PostgreSQL, MinIO, MLflow and Airflow as containers,
            but the container runtime '{runtimeName}' {failure}.
            Start Docker or Podman (ASPIRE_CONTAINER_RUNTIME=docker or podman picks one), or run the
            services against servers that exist already, with no container at all:

              dotnet run --project Diabetes.AppHost -- {Infrastructure.ModeKey}={Infrastructure.ExternalMode} \
                "ConnectionStrings:rawdata=Host=…;Database=rawdata;Username=…;Password=…" \
                "ConnectionStrings:cleandata=Host=…;Database=cleandata;Username=…;Password=…" \
                "ConnectionStrings:monitoring=Host=…;Database=monitoring;Username=…;Password=…" \
                "ConnectionStrings:minio=Endpoint=http://…:9000;AccessKey=…;SecretKey=…" \
                Parameters:mlflow-url=http://…:5000/

            docs/local-run.md explains both modes.
            """;
    }

    /// <summary>
    /// Asks the engine for one container, and answers why it could not, or null. Only the engine: Aspire's own
    /// check also wants the buildx plugin, which running the graph does not need.
    /// </summary>
    private static async Task<string?> AskEngineAsync(string command, CancellationToken cancellationToken)
    {
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo(command, ["container", "ls", "-n", "1"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
        }
        catch (Win32Exception)
        {
            return "is not installed";
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            await output;
            return process.ExitCode == 0 ? null : $"is not running ({(await errors).Trim()})";
        }
    }
}
