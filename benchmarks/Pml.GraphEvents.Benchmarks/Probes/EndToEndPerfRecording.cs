using System.Diagnostics;
using System.Globalization;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// <c>perf record -F 1999 -g -p PID -o FILE</c> on the server for the measured part of a scenario
/// (<c>--perf FILE</c>): CPU samples of every thread, native and kernel frames included, JIT-compiled
/// frames named through the server's perf map. Sampling costs CPU itself: compare profiled runs
/// with profiled runs, not with the figures of a plain run.
/// </summary>
internal sealed class EndToEndPerfRecording
{
    private readonly Process _perf;

    private EndToEndPerfRecording(Process perf, string file)
    {
        _perf = perf;
        File = file;
    }

    public string File { get; }

    public static async Task<EndToEndPerfRecording> StartAsync(int pid, string file)
    {
        var start = new ProcessStartInfo("perf") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "record", "-F", "1999", "-g", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", file })
        {
            start.ArgumentList.Add(argument);
        }

        Process perf;
        try
        {
            perf = Process.Start(start) ?? throw new EndToEndException("perf did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new EndToEndException("--perf: perf is not installed.", ex);
        }

        perf.OutputDataReceived += static (_, _) => { };
        perf.ErrorDataReceived += static (_, _) => { };
        perf.BeginOutputReadLine();
        perf.BeginErrorReadLine();

        // The session starts (and its own start-up cost settles) before the measured run.
        await Task.Delay(TimeSpan.FromSeconds(3));
        if (perf.HasExited)
        {
            throw new EndToEndException($"perf record exited with {perf.ExitCode} (permissions? /proc/sys/kernel/perf_event_paranoid).");
        }

        return new EndToEndPerfRecording(perf, file);
    }

    /// <summary>Stops the recording as Ctrl+C does (SIGINT: perf writes its file out and exits).</summary>
    public async Task StopAsync()
    {
        using (var signal = Process.Start("kill", ["-INT", _perf.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _perf.WaitForExitAsync(timeout.Token);
        _perf.Dispose();
    }
}
