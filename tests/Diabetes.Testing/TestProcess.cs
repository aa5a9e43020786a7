using System.Diagnostics;

namespace Diabetes.Testing;

/// <summary>What a program printed, and how it ended.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Errors);

/// <summary>Runs a tool the tests need (python3, kubectl, git, the AppHost's manifest publisher) to its end.</summary>
public static class TestProcess
{
    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="input"/> on its standard input, reading its output and
    /// errors while it runs (a full pipe would stall it). A program that is not installed throws
    /// <see cref="System.ComponentModel.Win32Exception"/>, for the caller to say how to install it. A program still
    /// running when <paramref name="cancellationToken"/> fires is killed with its children, and a
    /// <see cref="TimeoutException"/> says what it printed so far.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, string? input = null,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} was still running and was killed:\n{await output}\n{await errors}");
        }

        return new ProcessResult(process.ExitCode, await output, await errors);
    }
}
