using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Pml.GraphEvents.Reliability.Tests.TestSupport;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// One engine per SQLite file, across processes: a real server process holds its database, and
/// neither this process nor a second server may open it until that process is gone, however it
/// went (SIGKILL here).
/// </summary>
public sealed partial class DatabaseLockTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_database_held_by_a_server_process_cannot_be_opened_until_that_process_is_killed()
    {
        using var database = new TempDatabase();
        using var server = await ChildServer.StartAsync(database.Path);

        // The child learns one dependency and commits it.
        using (var client = new HttpClient { BaseAddress = server.BaseAddress })
        using (var response = await client.PostAsync("executions", RunningServer.Json("""{"execution_id":"held","tool_ids":["git:status","git:diff"]}"""), Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // From this process: refused, naming the file.
        using (var store = new SqliteToolGraphStore(database.Path))
        {
            var error = await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await store.LoadAsync(Token));
            Assert.Contains(database.Path, error.Message, StringComparison.Ordinal);
            Assert.Equal(database.Path, error.StorePath);
        }

        // A second server on the same file does not start, and says why.
        var (exitCode, output) = await ChildServer.RunToExitAsync(database.Path);
        Assert.NotEqual(0, exitCode);
        Assert.Contains(database.Path, output, StringComparison.Ordinal);
        Assert.Contains(nameof(ToolGraphStoreException), output, StringComparison.Ordinal);

        // SIGKILL: no chance to release anything. The OS drops the lock with the process.
        await server.KillAsync();
        using (var store = new SqliteToolGraphStore(database.Path))
        {
            var contents = await store.LoadAsync(Token);
            var edge = Assert.Single(contents.Edges);
            Assert.Equal(("git:status", "git:diff", 1), (edge.FromToolId, edge.ToToolId, edge.ObservedCount));
        }
    }

    /// <summary>The server's own dll, run by <c>dotnet</c> as a separate process on a free port.</summary>
    private sealed partial class ChildServer : IDisposable
    {
        private readonly Process _process;

        private ChildServer(Process process, Uri baseAddress)
        {
            _process = process;
            BaseAddress = baseAddress;
        }

        public Uri BaseAddress { get; }

        public static async Task<ChildServer> StartAsync(string databasePath)
        {
            var process = Start(databasePath);
            var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            process.OutputDataReceived += (_, e) => Collect(e.Data);
            process.ErrorDataReceived += (_, e) => Collect(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var child = new ChildServer(process, new Uri("http://127.0.0.1/"));
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
                timeout.CancelAfter(Eventually.Deadline);
                var exited = process.WaitForExitAsync(timeout.Token);
                var first = await Task.WhenAny(listening.Task, exited, Task.Delay(Timeout.Infinite, timeout.Token));
                Assert.True(first == listening.Task, $"the child server did not start: {string.Join('\n', output)}");
                var started = new ChildServer(process, new Uri(await listening.Task, "/"));

                // Listening comes after the hosted services started, so the graph (and the file) is open.
                using var client = new HttpClient { BaseAddress = started.BaseAddress };
                using var health = await client.GetAsync("healthz", Token);
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
                return started;
            }
            catch
            {
                child.Dispose();
                throw;
            }

            void Collect(string? line)
            {
                if (line is null)
                {
                    return;
                }

                output.Enqueue(line);
                var match = ListeningLine().Match(line);
                if (match.Success)
                {
                    listening.TrySetResult(new Uri(match.Groups[1].Value));
                }
            }
        }

        /// <summary>Runs a server that is expected to stop by itself; its exit code and all it wrote.</summary>
        public static async Task<(int ExitCode, string Output)> RunToExitAsync(string databasePath)
        {
            using var process = Start(databasePath);
            var stdout = process.StandardOutput.ReadToEndAsync(Token);
            var stderr = process.StandardError.ReadToEndAsync(Token);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(Eventually.Deadline);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await stdout + await stderr);
        }

        /// <summary>SIGKILL, then waits until the process is gone.</summary>
        public async Task KillAsync()
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(Token);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }

            _process.Dispose();
        }

        private static Process Start(string databasePath)
        {
            var serverDll = typeof(Pml.GraphEvents.Server.ServerApp).Assembly.Location;
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(databasePath)!,
            };
            foreach (var argument in new[] { serverDll, "--db", databasePath, "--simulate", "false", "--urls", "http://127.0.0.1:0" })
            {
                info.ArgumentList.Add(argument);
            }

            // Plain console lines (no colours), so the listening address can be read.
            info.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "false";
            info.Environment["Logging__Console__FormatterName"] = "simple";
            info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
            info.Environment.Remove("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
            return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        }

        [GeneratedRegex(@"Now listening on: (http://\S+)")]
        private static partial Regex ListeningLine();
    }
}
