using System.Diagnostics;

namespace Diabetes.Ingest.Sources;

/// <summary>
/// The service's local files, in one directory (<c>Ingest:WorkDirectory</c>): temporary files (a downloaded source, a
/// train file being written) and the train files the batches are cut from (<see cref="TrainBatchFile"/>).
/// </summary>
/// <remarks>
/// A process that stops in the middle of a step leaves its temporary files behind, and in Kubernetes the directory
/// outlives a container's restart: the files of processes that are gone are deleted when the service starts. A
/// temporary file's name carries its process id; the id of a process that is gone may be taken by the next one (every
/// container's first process is 1), so a file is also old when written before this process started. Process ids mean
/// nothing across containers or machines: the directory is one service instance's own (Kubernetes gives each pod its own).
/// </remarks>
public sealed class WorkDirectory : IHostedService
{
    private const string TemporaryExtension = ".tmp";
    private const string TrainFilePrefix = "train-";
    private const string TrainFileExtension = ".rows";

    private readonly ILogger<WorkDirectory> _logger;

    public WorkDirectory(IOptions<IngestOptions> options, ILogger<WorkDirectory> logger)
    {
        _logger = logger;
        Path = options.Value.WorkDirectory is { Length: > 0 } configured
            ? System.IO.Path.GetFullPath(configured)
            : System.IO.Path.Combine(System.IO.Path.GetTempPath(), "diabetes-ingest");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A new file name for <paramref name="purpose"/>, deleted by its user or when a later process starts.</summary>
    public string NewTemporaryFile(string purpose)
    {
        // Made again if something (a cleaner of the temporary directory) took it away while the service ran.
        Directory.CreateDirectory(Path);
        return System.IO.Path.Combine(Path, $"{purpose}.{Environment.ProcessId}.{Guid.NewGuid():N}{TemporaryExtension}");
    }

    /// <summary>Where the train rows of a source are kept for a batch size.</summary>
    public string TrainFile(string sha256, int batchSize) =>
        System.IO.Path.Combine(Path, $"{TrainFilePrefix}{sha256}-{batchSize}{TrainFileExtension}");

    /// <summary>Deletes the train files of other sources or batch sizes: RAW DATA holds one source at a time.</summary>
    public IReadOnlyList<string> DeleteTrainFilesBut(string trainFile) =>
        DeleteWhere($"{TrainFilePrefix}*{TrainFileExtension}", path => path != trainFile);

    /// <summary>At start, before any request: deletes the temporary files of processes that have ended.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var left = DeleteTemporaryFilesOfEndedProcesses();
        if (left.Count > 0)
        {
            _logger.LogInformation("Deleted {Count} temporary files that stopped steps left in {Directory}: {Files}",
                left.Count, Path, string.Join(", ", left));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IReadOnlyList<string> DeleteTemporaryFilesOfEndedProcesses()
    {
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        return DeleteWhere($"*{TemporaryExtension}", path =>
            !IsRunning(OwnerOf(path)) || OwnerOf(path) == Environment.ProcessId && File.GetLastWriteTimeUtc(path) < started);
    }

    private IReadOnlyList<string> DeleteWhere(string pattern, Func<string, bool> condition)
    {
        var deleted = new List<string>();
        foreach (var path in Directory.EnumerateFiles(Path, pattern).Where(condition))
        {
            if (TryDelete(path))
            {
                deleted.Add(System.IO.Path.GetFileName(path));
            }
        }

        return deleted;
    }

    /// <summary>Deletes a file of the directory; one that cannot go is logged and left, for it only takes space.</summary>
    public bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(exception, "Could not delete {File} from the work directory", path);
            return false;
        }
    }

    /// <summary>The process id in a temporary file's name (<c>purpose.pid.guid.tmp</c>), or 0 when it has none.</summary>
    private static int OwnerOf(string path) =>
        System.IO.Path.GetFileNameWithoutExtension(path).Split('.') is [.., var pid, _] && int.TryParse(pid, out var id) ? id : 0;

    private static bool IsRunning(int processId)
    {
        if (processId <= 0)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
