using System.Diagnostics;
using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// HTTP/1.1 and HTTP/2 on the same endpoint: h2c with prior knowledge on plain HTTP, ALPN <c>h2</c>
/// with TLS; the look at a connection's first bytes is bounded and never delays HTTP/1.1; a
/// stream that stops reading is evicted over HTTP/2 too; the ingest answers 4xx over HTTP/2.
/// </summary>
public sealed class Http2Tests
{
    private const string ProbePath = "/_probe";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_prior_knowledge_client_reads_the_stream_over_HTTP2_and_HTTP11_still_answers_on_the_same_port()
    {
        await using var server = await RunningServer.StartAsync(configure: AddProbe);
        using var h2c = Client(server.BaseAddress, HttpVersion.Version20);

        await using (var stream = await OpenStreamAsync(h2c, server.StreamUri(), HttpVersion.Version20))
        {
            Assert.Equal(HttpVersion.Version20, stream.Response.Version);
            Assert.Equal("connected", (await stream.ReadAsync()).EventType);
            await server.Broadcaster.PublishAsync(new EdgeCreatedEvent("h2:from", "h2:to", 0.5, DateTimeOffset.UnixEpoch), Token);
            var live = await ReadUntilAsync(stream, item => item.EventType == "edge_created" && item.Data.Contains("h2:from", StringComparison.Ordinal));
            Assert.NotNull(live.EventId);
        }

        // Cleartext all the way: the preface made Kestrel choose HTTP/2 and nothing else.
        Assert.Equal("HTTP/2 http False cert:False tls:False", await h2c.GetStringAsync(ProbePath, Token));

        // The same port, HTTP/1.1: through HttpClient and as raw bytes.
        using var http11 = Client(server.BaseAddress, HttpVersion.Version11);
        Assert.Equal("HTTP/1.1 http False cert:False tls:False", await http11.GetStringAsync(ProbePath, Token));
        var answer = await RawHttp.ExchangeAsync(server.EndPoint, Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        Assert.Equal(200, RawHttp.Status(answer));
        await server.AssertHealthyAsync();
    }

    [Fact]
    public async Task Curl_with_prior_knowledge_reads_the_connected_frame()
    {
        Assert.SkipUnless(await CurlSpeaksHttp2Async(), "curl with HTTP2 support is not on this machine.");
        await using var server = await RunningServer.StartAsync();
        using var curl = Process.Start(new ProcessStartInfo("curl", ["--http2-prior-knowledge", "-sS", "-N", "--max-time", "30", server.StreamUri().ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var lines = new List<string>();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(Eventually.Deadline);
            while (!lines.Contains("event: connected") && await curl.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
            }

            Assert.Contains("event: connected", lines);
        }
        finally
        {
            if (!curl.HasExited)
            {
                curl.Kill();
            }

            await curl.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task With_TLS_configured_a_client_negotiates_h2_by_ALPN_and_reads_the_stream_and_HTTP11_works_too()
    {
        using var certificate = TestCertificate.Create();
        await using var server = await RunningServer.StartAsync(
            settings: new Dictionary<string, string>
            {
                ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
                ["Kestrel:Endpoints:Https:Certificate:Path"] = certificate.PfxPath,
                ["Kestrel:Endpoints:Https:Certificate:Password"] = TestCertificate.Password,
            },
            configure: AddProbe);
        Assert.Equal("https", server.BaseAddress.Scheme);
        using var h2 = Client(server.BaseAddress, HttpVersion.Version20, certificate.Thumbprint);

        await using (var stream = await OpenStreamAsync(h2, server.StreamUri(), HttpVersion.Version20))
        {
            Assert.Equal(HttpVersion.Version20, stream.Response.Version);
            Assert.Equal("connected", (await stream.ReadAsync()).EventType);
            await server.Broadcaster.PublishAsync(new EdgeCreatedEvent("tls:from", "tls:to", 0.5, DateTimeOffset.UnixEpoch), Token);
            await ReadUntilAsync(stream, item => item.EventType == "edge_created" && item.Data.Contains("tls:from", StringComparison.Ordinal));
        }

        Assert.Equal("HTTP/2 https True cert:False tls:True", await h2.GetStringAsync(ProbePath, Token));
        using var http11 = Client(server.BaseAddress, HttpVersion.Version11, certificate.Thumbprint);
        Assert.Equal("HTTP/1.1 https True cert:False tls:True", await http11.GetStringAsync(ProbePath, Token));
    }

    [Fact]
    public async Task An_endpoint_set_to_HTTP1_only_does_not_answer_HTTP2()
    {
        // The operator's opt-out, Kestrel's own key: no look at the first bytes, no HTTP/2.
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string> { ["Kestrel:EndpointDefaults:Protocols"] = "Http1" });
        using var h2c = Client(server.BaseAddress, HttpVersion.Version20);
        await Assert.ThrowsAsync<HttpRequestException>(() => h2c.GetStringAsync("healthz", Token));
        await server.AssertHealthyAsync();
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_or_part_of_the_preface_is_closed_at_its_time_limit()
    {
        var idle = TimeSpan.FromSeconds(2);
        var headers = TimeSpan.FromSeconds(1);
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:IdleConnectionTimeout"] = "00:00:02",
            ["Server:RequestHeadersTimeout"] = "00:00:01",
        });

        // The three at once: each is closed by its own bound, none waits for another.
        var silent = ClosedAfterAsync(server, []);
        var partial = ClosedAfterAsync(server, Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\n"));
        var oneByte = ClosedAfterAsync(server, "P"u8.ToArray());
        var (silentAnswer, silentAfter) = await silent;
        var (partialAnswer, partialAfter) = await partial;
        var (oneByteAnswer, oneByteAfter) = await oneByte;

        // Closed without an answer (there was no request to answer), not before the bound.
        Assert.Empty(silentAnswer);
        Assert.Empty(partialAnswer);
        Assert.Empty(oneByteAnswer);
        Assert.InRange(silentAfter, idle - TimeSpan.FromMilliseconds(100), Eventually.Deadline);
        Assert.InRange(partialAfter, headers - TimeSpan.FromMilliseconds(100), Eventually.Deadline);
        Assert.InRange(oneByteAfter, headers - TimeSpan.FromMilliseconds(100), Eventually.Deadline);
        await server.AssertHealthyAsync();
    }

    [Fact]
    public async Task Bytes_that_leave_the_preface_are_HTTP11_and_answered_at_once()
    {
        // Long bounds: an answer well inside them was not kept waiting for more bytes.
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:IdleConnectionTimeout"] = "00:00:30",
            ["Server:RequestHeadersTimeout"] = "00:00:30",
        });

        foreach (var request in new[]
        {
            "PRX / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "PRI / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "POST /executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{",
        })
        {
            var started = Stopwatch.StartNew();
            var answer = await RawHttp.ExchangeAsync(server.EndPoint, Encoding.ASCII.GetBytes(request));
            Assert.InRange(RawHttp.Status(answer), 400, 499);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"{request.Split('\r')[0]} answered after {started.Elapsed}.");
        }
    }

    [Fact]
    public async Task An_HTTP2_stream_that_never_reads_is_evicted_by_the_write_timeout_while_its_sibling_on_the_same_connection_gets_everything()
    {
        using var logs = new ListLoggerProvider();
        await using var server = await RunningServer.StartAsync(
            settings: new Dictionary<string, string>
            {
                // Long enough that the healthy stream never comes near it on a busy machine.
                ["GraphEvents:Stream:WriteTimeout"] = "00:00:02",

                // Room for everything in the buffers: only the write timeout can evict.
                ["GraphEvents:SubscriberBufferCapacity"] = "100000",
                ["GraphEvents:SubscriberBufferCapacityBytes"] = "1073741824",
                ["GraphEvents:ReplayCapacityBytes"] = "1073741824",
            },
            logger: logs);

        // One connection carries both streams (HttpClient multiplexes HTTP/2 requests).
        using var h2c = Client(server.BaseAddress, HttpVersion.Version20);
        await using var stuck = await OpenStreamAsync(h2c, server.StreamUri(), HttpVersion.Version20);
        Assert.Equal("connected", (await stuck.ReadAsync()).EventType);
        await using var healthy = await OpenStreamAsync(h2c, server.StreamUri(), HttpVersion.Version20);
        Assert.Equal("connected", (await healthy.ReadAsync()).EventType);
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 2, "both streams subscribed");

        // 2 MB: more than the stuck stream's flow-control window (64 KiB unless its reader makes
        // room) and Kestrel's response buffer (64 KiB) hold, so its flush blocks; the stuck
        // stream reads nothing more from here on.
        const int Events = 128;
        for (var i = 0; i < Events; i++)
        {
            await server.Broadcaster.PublishAsync(Big(i), Token);
        }

        var received = 0;
        while (received < Events)
        {
            var item = await healthy.ReadAsync();
            if (item.EventType == "workflow_executed")
            {
                Assert.Equal($"wf-{received}", JsonDocument.Parse(item.Data).RootElement.GetProperty("workflow_id").GetString());
                received++;
            }
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 1, () => $"the stuck stream evicted ({server.Broadcaster.SubscriberCount} subscribers)");
        List<string> Evicted() => [.. logs.Entries.Where(e => e.Id.Id == 3).Select(e => e.Message)];
        await Eventually.HoldsAsync(() => Evicted().Count == 1, () => $"one eviction logged: {string.Join(" | ", logs.Entries.Select(e => e.Message))}");
        Assert.Contains("write timeout", Evicted()[0], StringComparison.Ordinal);

        // The eviction reset that stream only: the connection still carries the healthy one.
        await server.Broadcaster.PublishAsync(new EdgeCreatedEvent("after:from", "after:to", 0.5, DateTimeOffset.UnixEpoch), Token);
        await ReadUntilAsync(healthy, item => item.EventType == "edge_created" && item.Data.Contains("after:from", StringComparison.Ordinal));
        Assert.Equal("ok", JsonDocument.Parse(await h2c.GetStringAsync("healthz", Token)).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_ingest_over_HTTP2_learns_and_answers_bad_bodies_with_4xx()
    {
        var logs = new AllLogsProvider();
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string> { ["Server:MaxBodyBytes"] = "4096", ["Server:BodyReadTimeout"] = "00:00:02" }, logger: logs);
        using var h2c = Client(server.BaseAddress, HttpVersion.Version20);

        async Task<HttpStatusCode> PostAsync(HttpContent content)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "executions") { Content = content, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await h2c.SendAsync(request, Token);
            Assert.Equal(HttpVersion.Version20, response.Version);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(RunningServer.Json("""{"execution_id":"h2","tool_ids":["git:status","git:commit"]}""")));
        Assert.Equal(HttpStatusCode.BadRequest, await PostAsync(RunningServer.Json("""{"execution_id":""")));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await PostAsync(new StringContent("{}", Encoding.UTF8, "text/plain")));

        // Over the limit: declared (refused before reading), and streamed without a length
        // (HTTP/2 has no chunked encoding: the body simply has no Content-Length).
        var big = $$"""{"execution_id":"{{new string('x', 8192)}}"}""";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await PostAsync(RunningServer.Json(big)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await PostAsync(new UnknownLengthContent(Encoding.UTF8.GetBytes(big))));

        // And the connection still serves, with nothing logged as an error.
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(RunningServer.Json("""{"execution_id":"h2-after","tool_ids":["git:status","git:push"]}""")));

        // A stalled body (10 bytes of 1,000, then nothing). Over HTTP/2 Kestrel checks the
        // minimum body data rate per connection and ends the whole connection when a body falls
        // under it, so there is no 408 to read: the request fails, not before BodyReadTimeout.
        using var stalledClient = Client(server.BaseAddress, HttpVersion.Version20);
        using var stalled = new HttpRequestMessage(HttpMethod.Post, "executions")
        {
            Content = new StalledContent(declared: 1_000, sent: 10),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var started = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => stalledClient.SendAsync(stalled, Token));
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(100), Eventually.Deadline);

        // When the server ends the connection, SocketsHttpHandler fails the request with the
        // connection's IOException, or, when it stops the body's upload first, with the upload's
        // cancellation: either is the server's close, as long as the test's own token is untouched.
        Assert.False(Token.IsCancellationRequested);
        Assert.True(
            failure is HttpRequestException { InnerException: IOException } or OperationCanceledException,
            $"the request fails because the connection closed, not with {failure}");
        await server.AssertHealthyAsync();
        Assert.DoesNotContain(logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    private static WorkflowExecutedEvent Big(int i) =>
        new($"wf-{i}", [.. Enumerable.Range(0, 16 * 1024 / 32).Select(n => $"tool:{i}:{n:D20}")], true, 1, DateTimeOffset.UnixEpoch);

    private static HttpClient Client(Uri baseAddress, Version version, string? trustedThumbprint = null)
    {
        var handler = new SocketsHttpHandler { MaxResponseDrainSize = 0 };
        if (trustedThumbprint is not null)
        {
            // The test's own self-signed certificate, and no other.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && string.Equals(certificate.GetCertHashString(), trustedThumbprint, StringComparison.OrdinalIgnoreCase);
        }

        return new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Eventually.Deadline,
        };
    }

    private static Task<SseClient> OpenStreamAsync(HttpClient client, Uri uri, Version version) =>
        SseClient.OpenAsync(client, uri, request =>
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        });

    private static async Task<SseItem<string>> ReadUntilAsync(SseClient stream, Func<SseItem<string>, bool> wanted)
    {
        // Bounded: the server's own start-up events may come first, never thousands of them.
        for (var i = 0; i < 1_000; i++)
        {
            var item = await stream.ReadAsync();
            if (wanted(item))
            {
                return item;
            }
        }

        throw new InvalidOperationException("The wanted event did not come within 1,000 events.");
    }

    /// <summary>Sends <paramref name="bytes"/> on a new connection and waits until the server closes it: what came back, and when.</summary>
    private static async Task<(byte[] Answer, TimeSpan After)> ClosedAfterAsync(TestHost server, byte[] bytes)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Eventually.Deadline);
        using var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: timeout.Token);
        var started = Stopwatch.StartNew();
        if (bytes.Length > 0)
        {
            await socket.SendAsync(bytes, timeout.Token);
        }

        try
        {
            // Until the server closes: nothing is expected before.
            return (await RawHttp.ReceiveUntilAsync(socket, "\u0001never\u0001", timeout.Token), started.Elapsed);
        }
        catch (SocketException)
        {
            return ([], started.Elapsed);
        }
    }

    private static void AddProbe(WebApplicationBuilder builder) => builder.Services.AddSingleton<IStartupFilter, ProbeStartupFilter>();

    private static async Task<bool> CurlSpeaksHttp2Async()
    {
        try
        {
            using var curl = Process.Start(new ProcessStartInfo("curl", ["--version"]) { RedirectStandardOutput = true })!;
            var version = await curl.StandardOutput.ReadToEndAsync(Token);
            await curl.WaitForExitAsync(Token);
            return version.Split('\n').Any(line => line.StartsWith("Features:", StringComparison.Ordinal) && line.Contains(" HTTP2", StringComparison.Ordinal));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Answers <see cref="ProbePath"/> with what the application sees of the request's protocol and security.</summary>
    private sealed class ProbeStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Map(ProbePath, probe => probe.Run(context => context.Response.WriteAsync(
                $"{context.Request.Protocol} {context.Request.Scheme} {context.Request.IsHttps} " +
                $"cert:{context.Connection.ClientCertificate is not null} tls:{context.Features.Get<ITlsHandshakeFeature>() is not null}")));
            next(app);
        };
    }

    /// <summary>A body whose length is not known up front.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnknownLengthContent(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A body that sends part of its declared length and then nothing, until cancelled.</summary>
    private sealed class StalledContent : HttpContent
    {
        private readonly int _declared;
        private readonly int _sent;

        public StalledContent(int declared, int sent)
        {
            _declared = declared;
            _sent = sent;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(new string(' ', _sent)), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            await Task.Delay(Eventually.Deadline, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _declared;
            return true;
        }
    }

    /// <summary>A self-signed certificate for 127.0.0.1, as a password-protected PFX file that lives as long as this.</summary>
    private sealed class TestCertificate : IDisposable
    {
        public const string Password = "test-only-password";

        private TestCertificate(string pfxPath, string thumbprint)
        {
            PfxPath = pfxPath;
            Thumbprint = thumbprint;
        }

        public string PfxPath { get; }

        public string Thumbprint { get; }

        public static TestCertificate Create()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            var now = DateTimeOffset.UtcNow;
            using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
            var path = Path.Combine(Path.GetTempPath(), $"pml-h2-{Guid.NewGuid():N}.pfx");
            File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
            return new TestCertificate(path, certificate.Thumbprint);
        }

        public void Dispose() => File.Delete(PfxPath);
    }
}
