using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pml.GraphEvents.Testing;

/// <summary>
/// A real redis-server of the test's own, on a free loopback port (never the default 6379).
/// Without persistence by default; with <c>persistent: true</c> it keeps an append-only file in a
/// temporary directory of its own, fsynced on every write, so that a stopped-and-restarted server
/// on the same port comes back with its data. <see cref="StopAsync"/> and <see cref="StartAsync"/>
/// simulate an outage; <see cref="PauseAsync"/> and <see cref="ResumeAsync"/> freeze the process
/// (SIGSTOP/SIGCONT): connections stay open but nothing answers, as on a hung host or a partition.
/// Shared by the test projects (tests/Shared).
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string? _directory;
    private Process? _process;

    private RedisServer(int port, bool persistent)
    {
        Port = port;
        if (persistent)
        {
            _directory = Directory.CreateTempSubdirectory("pml-cluster-redis-").FullName;
        }
    }

    public int Port { get; }

    public bool Persistent => _directory is not null;

    /// <summary>The process id while running, for the test output.</summary>
    public int? ProcessId => _process?.Id;

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartNewAsync(bool persistent = false)
    {
        var server = new RedisServer(FreePort(), persistent);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts redis-server on this port (again, after a stop: with persistence it reloads its append-only file).</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments = _directory is null
            ? ["--save", "", "--appendonly", "no"]
            : ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", _directory];
        foreach (var argument in (string[])["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--daemonize", "no", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            _process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: run ./build.sh test, which installs it.", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // PONG is not enough with persistence: while loading its file Redis answers -LOADING.
        await Eventually.HoldsAsync(Pings, $"redis-server answering PING on port {Port}");
    }

    /// <summary>Stops the server: SIGTERM (Redis closes its files cleanly) or, with <paramref name="kill"/>, SIGKILL.</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (_process is { } process)
        {
            if (kill)
            {
                process.Kill(entireProcessTree: true);
            }
            else
            {
                await SignalAsync(process, "TERM");
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(Eventually.Deadline);
            await process.WaitForExitAsync(timeout.Token);
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Freezes the server (SIGSTOP): its sockets stay open, nothing is answered.</summary>
    public Task PauseAsync() => SignalAsync(_process ?? throw new InvalidOperationException("redis-server is not running."), "STOP");

    /// <summary>Lets a paused server go on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync(_process ?? throw new InvalidOperationException("redis-server is not running."), "CONT");

    /// <summary>
    /// Sends one command and returns its reply's first line (<c>:3</c>, <c>+OK</c>, <c>-ERR …</c>,
    /// <c>$5</c> …): enough for DBSIZE, XLEN, EXISTS, without a client library in this project.
    /// </summary>
    public string Command(params string[] arguments)
    {
        // Bounded: a paused server must fail the call (IOException), not hang the test.
        using var client = new TcpClient { ReceiveTimeout = 5_000, SendTimeout = 5_000 };
        client.Connect(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{arguments.Length}\r\n");
        foreach (var argument in arguments)
        {
            request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        }

        stream.Write(Encoding.UTF8.GetBytes(request.ToString()));
        var reply = new StringBuilder();
        var one = new byte[1];
        while (stream.Read(one) == 1 && one[0] != '\n')
        {
            if (one[0] != '\r')
            {
                reply.Append((char)one[0]);
            }
        }

        return reply.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process && !process.HasExited)
        {
            // A paused server ignores SIGTERM until continued; SIGKILL ends it either way.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        _process?.Dispose();
        _process = null;
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // The OS cleans temporary directories.
            }
        }
    }

    private static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)])) ?? throw new InvalidOperationException("kill did not start.");
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    private bool Pings()
    {
        if (_process is null || _process.HasExited)
        {
            throw new InvalidOperationException($"redis-server exited on port {Port}.");
        }

        try
        {
            return Command("PING") == "+PONG";
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
