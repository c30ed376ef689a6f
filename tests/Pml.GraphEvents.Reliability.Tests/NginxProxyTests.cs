using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Text;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// docs/operations.md's nginx site file, run by the real nginx in front of the real server
/// configured as the documented unit configures it: frames reach a client through the proxy
/// as they are published, uncompressed, while the stream stays open; <c>Last-Event-ID</c> and
/// <c>X-Api-Key</c> pass; the server sees the client's address (X-Forwarded-For from a trusted
/// proxy); <c>/metrics</c> is not forwarded.
/// </summary>
public sealed class NginxProxyTests
{
    private const string Host = "graph.example.com";
    private const string ApiKey = "nginx-test-key-0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_documented_nginx_site_passes_every_frame_at_once_and_resumes_with_Last_Event_ID()
    {
        Assert.SkipWhen(NginxProxy.Executable is null, "nginx is not installed (./build.sh test installs it): this test runs the real nginx.");

        await using var server = await ChildServer.StartAsync(
            null,
            null,
            "--api-key", ApiKey,
            "--Server:AllowedHosts", Host,
            "--Server:TrustedProxies", "127.0.0.1");
        await using var nginx = await NginxProxy.StartAsync(server.Port);

        // The client connects from 127.0.0.2 (still loopback), so that the address the server
        // logs can only have come from nginx's X-Forwarded-For.
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = ConnectFrom127002Async }) { BaseAddress = nginx.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using var stream = await http.SendAsync(Request(HttpMethod.Get, "/events/stream", ("Accept-Encoding", "gzip")), HttpCompletionOption.ResponseHeadersRead, Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("gzip", stream.Content.Headers.ContentEncoding);
        await using var body = await stream.Content.ReadAsStreamAsync(Token);
        await using var frames = SseParser.Create(body).EnumerateAsync(Token).GetAsyncEnumerator(Token);
        Assert.True(await frames.MoveNextAsync());
        Assert.Equal("connected", frames.Current.EventType);
        await Eventually.HoldsAsync(
            () => server.Output.Contains("connected from 127.0.0.2", StringComparison.Ordinal),
            () => $"the server logged the client's own address; output:\n{server.Output}");

        using (var refused = await http.SendAsync(Execution("nginx-0", apiKey: null), Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var accepted = await http.SendAsync(Execution("nginx-1", ApiKey), Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        // A few hundred bytes of frames: a buffering proxy would hold them until kilobytes more
        // came (a heartbeat every 30 s), or the stream ended. Through this one they come at once.
        using var prompt = CancellationTokenSource.CreateLinkedTokenSource(Token);
        prompt.CancelAfter(TimeSpan.FromSeconds(20));
        var edgeId = await NextIdOfAsync(frames, "edge_created", prompt.Token);
        var nextId = await NextIdOfAsync(frames, "workflow_executed", prompt.Token);

        // Resumed after the edge through the proxy: the frames after it, the same ids.
        using var resumed = await http.SendAsync(Request(HttpMethod.Get, "/events/stream", ("Last-Event-ID", edgeId)), HttpCompletionOption.ResponseHeadersRead, Token);
        await using var resumedBody = await resumed.Content.ReadAsStreamAsync(Token);
        await using var replay = SseParser.Create(resumedBody).EnumerateAsync(Token).GetAsyncEnumerator(Token);
        Assert.True(await replay.MoveNextAsync());
        Assert.Equal("connected", replay.Current.EventType);
        Assert.True(await replay.MoveNextAsync());
        Assert.Equal(("workflow_executed", nextId), (replay.Current.EventType, replay.Current.EventId));

        using (var metrics = await http.SendAsync(Request(HttpMethod.Get, "/metrics"), Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
        }

        Assert.False(server.HasExited, server.Output);
    }

    private static async Task<string> NextIdOfAsync(IAsyncEnumerator<SseItem<string>> frames, string type, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = frames.MoveNextAsync().AsTask().WaitAsync(cancellationToken);
            Assert.True(await next, $"The stream ended before {type}.");
            if (frames.Current.EventType == type)
            {
                return frames.Current.EventId!;
            }
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Host = Host;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static HttpRequestMessage Execution(string id, string? apiKey)
    {
        var request = apiKey is null ? Request(HttpMethod.Post, "/executions") : Request(HttpMethod.Post, "/executions", ("X-Api-Key", apiKey));
        request.Content = new StringContent($$"""{"execution_id":"{{id}}","tool_ids":["git:status","git:commit"],"success":true,"execution_time_ms":4}""", Encoding.UTF8, "application/json");
        return request;
    }

    private static async ValueTask<Stream> ConnectFrom127002Async(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            await socket.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
