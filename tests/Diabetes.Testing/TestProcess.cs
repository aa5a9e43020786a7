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
    /// <see cref="System.ComponentModel.Win32Exception"/>, for the caller to say how to install it.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, string? input = null,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
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
        await process.WaitForExitAsync();
        return new ProcessResult(process.ExitCode, await output, await errors);
    }
}
