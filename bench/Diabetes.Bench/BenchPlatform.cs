using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Diabetes.MlflowDouble;

namespace Diabetes.Bench;

/// <summary>The services as child processes on loopback ports (Release builds), and the MLflow double in this one.</summary>
public sealed class BenchPlatform : IAsyncDisposable
{
    private readonly Dictionary<string, Process> _processes = new();

    private BenchPlatform(MlflowServerDouble mlflow) => Mlflow = mlflow;

    public MlflowServerDouble Mlflow { get; }

    public HttpClient Ingest { get; private set; } = null!;

    public HttpClient Trainer { get; private set; } = null!;

    /// <summary>The MLflow double alone; services are started on demand.</summary>
    public static async Task<BenchPlatform> StartAsync() => new(await MlflowServerDouble.StartAsync());

    /// <summary>The MLflow double, the ingest service and the trainer, with settings over those of the environment.</summary>
    public static async Task<BenchPlatform> StartAsync(string binDirectory, params (string Key, string Value)[] settings)
    {
        var platform = await StartAsync();
        platform.Ingest = await platform.StartServiceAsync("ingest", Dll(binDirectory, "Diabetes.Ingest"), settings);
        platform.Trainer = await platform.StartServiceAsync("trainer", Dll(binDirectory, "Diabetes.Trainer"), settings);
        return platform;
    }

    /// <summary>
    /// Starts the inference API as <paramref name="name"/>, watching the double's registry every second, with
    /// <paramref name="settings"/> besides (the prediction log's connection string, for one).
    /// </summary>
    public Task<HttpClient> StartInferenceAsync(string binDirectory, string name, params (string Key, string Value)[] settings) =>
        StartServiceAsync(name, Dll(binDirectory, "Diabetes.InferenceApi"), [("Serving__RefreshInterval", "00:00:01"), .. settings]);

    /// <summary>The process id of a service, for reading its counters from outside.</summary>
    public int ProcessId(string service) => _processes[service].Id;

    /// <summary>Stops a service and forgets it, so that it can be started again afresh.</summary>
    public async Task StopServiceAsync(string service)
    {
        var process = _processes[service];
        _processes.Remove(service);
        await StopAsync(process);
    }

    /// <summary>The machine's load average over the last minute.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The CPU time a process has used, in seconds; with <paramref name="children"/>, that of its running children and of
    /// those that ended too (PostgreSQL's server process and its backends).
    /// </summary>
    public static double CpuSeconds(int processId, bool children = false)
    {
        var ticks = Times(processId) is { } own ? own.User + own.System + (children ? own.ChildrenUser + own.ChildrenSystem : 0) : 0;
        if (children)
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), out var child) && Times(child) is { } times && times.Parent == processId)
                {
                    ticks += times.User + times.System;
                }
            }
        }

        return ticks / ClockTicksPerSecond;
    }

    /// <summary>Linux's USER_HZ, the unit of /proc's times, on every architecture .NET runs on.</summary>
    private const double ClockTicksPerSecond = 100;

    private sealed record ProcessTimes(int Parent, long User, long System, long ChildrenUser, long ChildrenSystem);

    /// <summary>A process's times from /proc/PID/stat (fields 4 and 14 to 17), or null when it has ended.</summary>
    private static ProcessTimes? Times(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // After the command's name in parentheses (which may hold spaces) come the fields from the state (3) on.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], System.Globalization.CultureInfo.InvariantCulture);
        return new ProcessTimes((int)Field(4), Field(14), Field(15), Field(16), Field(17));
    }

    /// <summary>The resident memory of a service now (VmRSS).</summary>
    public long MemoryMiB(string service) => StatusMiB(service, "VmRSS:");

    /// <summary>The peak resident memory of a service since it started or since <see cref="ResetPeakMemory"/> (VmHWM).</summary>
    public long PeakMemoryMiB(string service) => StatusMiB(service, "VmHWM:");

    /// <summary>Starts a service's peak memory again from its resident memory now, so that one step's peak can be read.</summary>
    public void ResetPeakMemory(string service) => File.WriteAllText($"/proc/{_processes[service].Id}/clear_refs", "5");

    private long StatusMiB(string service, string field)
    {
        var status = File.ReadAllLines($"/proc/{_processes[service].Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }

    private static string Dll(string binDirectory, string project) => Path.Combine(binDirectory, project, "release", $"{project}.dll");

    private async Task<HttpClient> StartServiceAsync(string name, string dll, params (string Key, string Value)[] settings)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", url]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["services__mlflow__http__0"] = Mlflow.BaseAddress.ToString();
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // The console logger writes to standard output, which is dropped here; warnings and errors go where they are seen.
        start.Environment["Logging__Console__LogToStandardErrorThreshold"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[{name}] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[name] = process;

        var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(10) };
        for (var attempt = 0; attempt < 150; attempt++)
        {
            try
            {
                using var alive = await client.GetAsync("/alive");
                if (alive.IsSuccessStatusCode)
                {
                    return client;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"{name} did not start on {url}.");
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            await StopAsync(process);
        }

        await Mlflow.DisposeAsync();
    }

    private static async Task StopAsync(Process process)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
