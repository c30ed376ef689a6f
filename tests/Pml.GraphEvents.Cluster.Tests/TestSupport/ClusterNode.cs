using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pml.GraphEvents.Cluster.Tests.TestSupport;

/// <summary>
/// One instance of the ready-to-run server as its own process (<c>dotnet Pml.GraphEvents.Server.dll</c>),
/// as an operator runs it, in a temporary working directory of its own (so that nothing it might
/// write lands beside the tests), with its output kept for failure messages. Shaped after the
/// reliability tests' ChildServer, without its SQLite database: cluster mode has none.
/// </summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _output = new();

    private ClusterNode(string name, Process process, string directory, int port)
    {
        Name = name;
        _process = process;
        _directory = directory;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The test's name for it (A, B, C …), for messages.</summary>
    public string Name { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join('\n', _output);

    /// <summary>The dll the tests run: the server's, copied beside the test assembly with its runtimeconfig and appsettings.json.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Pml.GraphEvents.Server.dll");

    public Uri Uri(string relative) => new(BaseAddress, relative);

    /// <summary>Starts an instance with <paramref name="arguments"/> after <c>--urls</c> and waits until it listens.</summary>
    public static async Task<ClusterNode> StartAsync(string name, IEnumerable<string> arguments)
    {
        var node = Launch(name, arguments);
        try
        {
            await Eventually.HoldsAsync(
                () => node.HasExited || node._output.Any(l => l.Contains("Application started", StringComparison.Ordinal)),
                () => $"instance {name} started; output:\n{node.Output}");
            if (node.HasExited)
            {
                Assert.Fail($"Instance {name} exited at start ({node.ExitCode}):\n{node.Output}");
            }

            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts an instance that is expected to refuse to start, and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(IEnumerable<string> arguments)
    {
        await using var node = Launch("refused", arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        try
        {
            await node._process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The server did not exit (it should have refused to start):\n{node.Output}");
        }

        return (node.ExitCode, node.Output);
    }

    /// <summary>SIGKILL: the process ends at once, with no chance to release a lease or flush anything.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcessCleanup.KillAndDisposeAsync(_process);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temporary directories.
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} (port {Port}, pid {_process.Id})");

    private static ClusterNode Launch(string name, IEnumerable<string> arguments)
    {
        var port = FreePort();
        var directory = Directory.CreateTempSubdirectory("pml-cluster-node-").FullName;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var argument in (string[])[ServerDll, "--urls", $"http://127.0.0.1:{port}", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException("The server did not start.");
        var node = new ClusterNode(name, process, directory, port);
        process.OutputDataReceived += (_, e) => node.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => node.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
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
}
