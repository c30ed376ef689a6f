using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pml.GraphEvents.Package.Tests;

/// <summary>
/// A program run as its own process (an installed tool's command), its output collected line by
/// line as it comes so that a test can wait on a line, and the whole tree killed at the end.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ChildProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything written so far (standard output and error), one line each.</summary>
    public string Output => string.Join('\n', _lines);

    public static ChildProcess Start(string fileName, string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        // A tool's launcher finds the runtime through DOTNET_ROOT or the global install location,
        // not PATH: where the SDK is installed elsewhere (a CI's ~/.dotnet), point it at the
        // runtime this test runs on (<root>/shared/Microsoft.NETCore.App/<version>/).
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_ROOT")))
        {
            info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        }

        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start."));
    }

    /// <summary>The first line that contains <paramref name="text"/>, once written; fails if the process exits first.</summary>
    public async Task<string> WaitForLineAsync(string text)
    {
        string? found = null;
        await Eventually.HoldsAsync(
            () => (found = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal))) is not null || _process.HasExited,
            () => $"a line with '{text}'; output:\n{Output}");
        if (found is null)
        {
            // Exited: the line may have come with the last output.
            _process.WaitForExit();
            found = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (found is null)
            {
                Assert.Fail($"The process exited ({_process.ExitCode}) without writing '{text}':\n{Output}");
            }
        }

        return found!;
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        await _process.WaitForExitAsync(timeout.Token);

        // The parameterless wait also waits for the redirected output to be read to its end.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void Collect(string? line)
    {
        if (line is not null && _lines.Count < 10_000)
        {
            _lines.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcessCleanup.KillAndDisposeAsync(_process);
    }
}
