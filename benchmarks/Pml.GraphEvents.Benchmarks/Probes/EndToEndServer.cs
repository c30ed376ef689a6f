using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One server in a child process, as an operator runs it (<c>dotnet Pml.GraphEvents.Server.dll</c>):
/// a fresh SQLite database in a temp folder (the durable event log on, the default), 127.0.0.1 on
/// a free port, no simulator, logging at Warning, the subscriber limits raised for the probe's
/// clients. Killed and its folder deleted on dispose.
/// </summary>
internal sealed class EndToEndServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly ConcurrentQueue<string> _output;

    private EndToEndServer(Process process, string folder, ConcurrentQueue<string> output, Uri address)
    {
        _process = process;
        _folder = folder;
        _output = output;
        Address = address;
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    /// <param name="dll">The server build.</param>
    /// <param name="clients">Stream clients the run opens: the subscriber and per-address limits are raised above them.</param>
    /// <param name="profiled">Run with the environment perf needs to name JIT-compiled frames (<c>--perf</c>).</param>
    public static async Task<EndToEndServer> StartAsync(string dll, int clients, bool profiled)
    {
        var port = FreePort();
        var folder = Directory.CreateTempSubdirectory("e2e-probe-").FullName;
        var limit = Math.Max(100, clients + 10).ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            dll,
            "--urls", $"http://127.0.0.1:{port}",
            "--Server:Simulate", "false",
            "--db", Path.Combine(folder, "e2e.db"),
            "--GraphEvents:MaxSubscribers", limit,
            "--GraphEvents:Stream:MaxStreamsPerAddress", limit,
            "--Logging:LogLevel:Default", "Warning",
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (profiled)
        {
            // A perf map names JIT-compiled frames; W^X off keeps code at one address; no
            // ReadyToRun, so that framework code is JIT-compiled (and named) too.
            start.Environment["DOTNET_PerfMapEnabled"] = "1";
            start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
            start.Environment["DOTNET_ReadyToRun"] = "0";
        }

        // The server's output is drained (a full pipe would block its logging) and its tail kept for errors.
        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new EndToEndException("The server did not start.");
        void Keep(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            while (output.Count > 40 && output.TryDequeue(out _))
            {
            }
        }

        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new EndToEndServer(process, folder, output, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await server.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Throws if the server has exited.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited)
        {
            throw new EndToEndException($"The server exited with {_process.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, _output)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is not worth failing the run for.
        }
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            EnsureRunning();
            try
            {
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new EndToEndException($"The server did not answer /healthz within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
