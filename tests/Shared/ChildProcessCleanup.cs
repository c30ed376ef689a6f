using System.Diagnostics;

namespace Pml.GraphEvents.Testing;

/// <summary>The end of a child process a test started (a server, nginx, an installed tool): shared by the test projects that start them.</summary>
internal static class ChildProcessCleanup
{
    /// <summary>
    /// Kills <paramref name="process"/> with everything it started, if it still runs, waits up to
    /// 20 seconds for it to exit, and disposes it. A process that does not exit in time was killed
    /// all the same; the OS reaps it, and the test goes on to its own cleanup.
    /// </summary>
    public static async ValueTask KillAndDisposeAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed; the OS reaps it.
        }

        process.Dispose();
    }
}
