using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Diabetes.Testing;

namespace Diabetes.Trainer.FunctionalTests;

/// <summary>
/// The trainer as an operator runs it: a process of its own (<c>dotnet Diabetes.Trainer.dll</c>), configured through
/// its environment only. Unlike a trainer in the test's own process, it can really die: killed, it lets go of nothing.
/// </summary>
public sealed partial class TrainerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private TrainerProcess(Process process, ConcurrentQueue<string> output, Uri address)
    {
        _process = process;
        _output = output;
        Client = new HttpClient { BaseAddress = address };
    }

    /// <summary>A client of the trainer's API.</summary>
    public HttpClient Client { get; }

    /// <summary>What the trainer printed so far, for a failed test to show.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts a trainer configured with <paramref name="settings"/> (environment variables) on a free loopback port.</summary>
    public static async Task<TrainerProcess> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Diabetes.Trainer.dll"), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        // Its warnings and errors, and the line that says where it listens.
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var output = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, line) =>
        {
            output.Enqueue(line.Data ?? "");
            if (ListeningOn().Match(line.Data ?? "") is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The trainer exited before it listened:\n{string.Join('\n', output)}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new TrainerProcess(process, output, await listening.Task.WaitAsync(Poll.Limit));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Kills the trainer at once, as a crash or an out-of-memory kill would.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        Client.Dispose();
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
