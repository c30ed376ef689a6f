using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>
/// The built server dll run as its own process (<c>dotnet Pml.GraphEvents.Server.dll</c>), optionally
/// under <c>prlimit --nofile</c>, from a chosen working directory: what an operator runs, with the
/// process's own limits, memory and exit code to check.
/// </summary>
internal sealed class ChildServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDatabase? _database;
    private readonly ConcurrentQueue<string> _output = new();

    private ChildServer(Process process, TempDatabase? database, int port)
    {
        _process = process;
        _database = database;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join('\n', _output);

    /// <summary>The dll the tests run: the server's, copied beside the test assembly with its runtimeconfig and appsettings.json.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Pml.GraphEvents.Server.dll");

    /// <summary>The process's resident memory in bytes (VmRSS).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("No VmRSS line.");
    }

    /// <summary>Starts the server and waits until it listens; <paramref name="openFiles"/> runs it under <c>prlimit --nofile=N:N</c>.</summary>
    public static Task<ChildServer> StartAsync(int? openFiles = null, string? workingDirectory = null, params string[] extraArgs) =>
        StartCoreAsync(new TempDatabase(), null, openFiles, workingDirectory, extraArgs);

    /// <summary>Starts the server on a database the caller keeps (for restarts on the same file), and waits until it listens.</summary>
    public static Task<ChildServer> StartOnAsync(string databasePath, params string[] extraArgs) =>
        StartCoreAsync(null, databasePath, null, null, extraArgs);

    private static async Task<ChildServer> StartCoreAsync(TempDatabase? owned, string? databasePath, int? openFiles, string? workingDirectory, string[] extraArgs)
    {
        var port = FreePort();
        var database = owned;
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        if (openFiles is { } files)
        {
            info.FileName = "prlimit";
            info.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--nofile={files}:{files}"));
            info.ArgumentList.Add("--");
            info.ArgumentList.Add("dotnet");
        }
        else
        {
            info.FileName = "dotnet";
        }

        foreach (var arg in (string[])[ServerDll, "--urls", $"http://127.0.0.1:{port}", "--simulate", "false", "--db", databasePath ?? database!.Path, .. extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException("The server did not start.");
        var server = new ChildServer(process, database, port);
        process.OutputDataReceived += (_, e) => server.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => server.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.HoldsAsync(
                () => process.HasExited || server._output.Any(l => l.Contains("Application started", StringComparison.Ordinal)),
                () => $"the child server started; output:\n{server.Output}");
            if (process.HasExited)
            {
                Assert.Fail($"The child server exited at start ({process.ExitCode}):\n{server.Output}");
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends SIGTERM (what systemd, Docker and Kubernetes send to stop) and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])) ?? throw new InvalidOperationException("kill did not start."))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        return await WaitForExitAsync();
    }

    /// <summary>Sends SIGKILL: the process ends at once, with no chance to flush or close anything.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await WaitForExitAsync();
    }

    private async Task<int> WaitForExitAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    private void Collect(string? line)
    {
        if (line is not null && _output.Count < 10_000)
        {
            _output.Enqueue(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcessCleanup.KillAndDisposeAsync(_process);
        _database?.Dispose();
    }
}
