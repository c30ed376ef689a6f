using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>
/// The real nginx, in the foreground on a free loopback port, running the site file of
/// docs/operations.md ("Behind nginx") as written there: only its listen address and the
/// upstream's port are changed, inside an http block of the kind a distribution ships
/// (gzip on, for text/event-stream too).
/// </summary>
internal sealed partial class NginxProxy : IAsyncDisposable
{
    /// <summary>The first line of the site file in docs/operations.md, which finds it there.</summary>
    public const string SiteFileMarker = "# /etc/nginx/conf.d/pml-graph-events.conf";

    private readonly Process _process;
    private readonly DirectoryInfo _prefix;
    private readonly ConcurrentQueue<string> _output = new();

    private NginxProxy(Process process, DirectoryInfo prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    public string Output => string.Join('\n', _output);

    /// <summary>nginx's path, or <see langword="null"/> when it is not installed (<c>./build.sh test</c> installs it).</summary>
    public static string? Executable { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Select(directory => Path.Combine(directory, "nginx"))
            .FirstOrDefault(File.Exists);

    /// <summary>The site file as docs/operations.md shows it.</summary>
    public static string DocumentedSiteFile()
    {
        var root = typeof(NginxProxy).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
        var operations = File.ReadAllText(Path.Combine(root, "docs", "operations.md"));
        var block = NginxBlock().Matches(operations).Select(m => m.Groups["body"].Value).SingleOrDefault(b => b.StartsWith(SiteFileMarker, StringComparison.Ordinal));
        Assert.True(block is not null, $"docs/operations.md has no ```nginx block that starts with '{SiteFileMarker}'.");
        return block;
    }

    /// <summary>Starts nginx with the documented site file in front of <paramref name="upstreamPort"/>, and waits until it answers.</summary>
    public static async Task<NginxProxy> StartAsync(int upstreamPort)
    {
        var port = FreePort();
        var site = Replace(DocumentedSiteFile(), "listen 80;", $"listen 127.0.0.1:{port};");
        site = Replace(site, "server 127.0.0.1:5080;", $"server 127.0.0.1:{upstreamPort};");
        var prefix = Directory.CreateTempSubdirectory("pml-nginx-");
        var config = Path.Combine(prefix.FullName, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{prefix.FullName}}/nginx.pid;
            error_log stderr notice;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{prefix.FullName}}/client_body;
                proxy_temp_path {{prefix.FullName}}/proxy;
                fastcgi_temp_path {{prefix.FullName}}/fastcgi;
                uwsgi_temp_path {{prefix.FullName}}/uwsgi;
                scgi_temp_path {{prefix.FullName}}/scgi;
                gzip on;
                gzip_min_length 1;
                gzip_types text/event-stream application/json text/plain;

            {{site}}
            }
            """, TestContext.Current.CancellationToken);

        var info = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-p", prefix.FullName, "-e", "stderr", "-c", config])
        {
            info.ArgumentList.Add(argument);
        }

        var proxy = new NginxProxy(Process.Start(info) ?? throw new InvalidOperationException("nginx did not start."), prefix, port);
        try
        {
            await Eventually.HoldsAsync(() => proxy._process.HasExited || Listens(port), () => $"nginx listens on {port}; output:\n{proxy.Output}");
            if (proxy._process.HasExited)
            {
                Assert.Fail($"nginx exited at start ({proxy._process.ExitCode}):\n{proxy.Output}");
            }

            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    private static string Replace(string site, string documented, string replacement)
    {
        Assert.Contains(documented, site, StringComparison.Ordinal);
        return site.Replace(documented, replacement, StringComparison.Ordinal);
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
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

    private void Collect(string? line)
    {
        if (line is not null && _output.Count < 1_000)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcessCleanup.KillAndDisposeAsync(_process);
        try
        {
            _prefix.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"```nginx\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex NginxBlock();
}
