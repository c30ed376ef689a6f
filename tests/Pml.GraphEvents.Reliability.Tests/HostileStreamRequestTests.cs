using System.Net;
using System.Text;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Hostile requests on the stream itself: odd Last-Event-IDs, huge headers, abusive <c>?types=</c>,
/// look-alike CORS origins and every method but GET. Each gets a clear 4xx or is answered safely,
/// and the watching clients' frames stay well formed.
/// </summary>
public sealed class HostileStreamRequestTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Malformed_and_huge_last_event_ids_are_ignored_or_refused()
    {
        await using var watched = await WatchedServer.StartAsync();
        var server = watched.Server;
        string[] ignored = ["abc", "-1", "+5", " 7 ", "1e3", "0x10", "99999999999999999999999", "18446744073709551616", "9223372036854775807", "٣", "1,000", new string('9', 4_000), "%0Aevent: x"];
        foreach (var value in ignored)
        {
            // Nothing to resume from (none is an id of this log): the stream opens live, and says
            // so with events_lost (unknown_last_event_id).
            var answer = await RawHttp.ExchangeAsync(server.EndPoint, RawHttp.Get(RunningServer.StreamPath, $"Last-Event-ID: {value}\r\n"), "event: events_lost\ndata: ");
            Assert.True(RawHttp.Status(answer) == 200 && answer.Contains("event: events_lost", StringComparison.Ordinal), $"Last-Event-ID '{value}': {answer[..Math.Min(400, answer.Length)]}");
            var query = await RawHttp.ExchangeAsync(server.EndPoint, RawHttp.Get(RunningServer.StreamPath + "?last_event_id=" + Uri.EscapeDataString(value)), "event: events_lost\ndata: ");
            Assert.True(RawHttp.Status(query) == 200 && query.Contains("event: events_lost", StringComparison.Ordinal), $"?last_event_id={value}: {query[..Math.Min(400, query.Length)]}");
        }

        // Headers Kestrel refuses before the endpoint runs: clear 4xx, never a stream.
        var huge = await RawHttp.ExchangeAsync(server.EndPoint, RawHttp.Get(RunningServer.StreamPath, $"Last-Event-ID: {new string('1', 64 * 1024)}\r\n"));
        Assert.Equal(431, RawHttp.Status(huge));
        var many = await RawHttp.ExchangeAsync(server.EndPoint, RawHttp.Get(RunningServer.StreamPath, string.Concat(Enumerable.Range(0, 200).Select(i => $"X-Junk-{i}: {new string('j', 200)}\r\n"))));
        Assert.Equal(431, RawHttp.Status(many));
        var nul = await RawHttp.ExchangeAsync(server.EndPoint, [.. RawHttp.Get(RunningServer.StreamPath).SkipLast(2), .. "Last-Event-ID: 1\0\r\n\r\n"u8]);
        Assert.Equal(400, RawHttp.Status(nul));
        var bare = await RawHttp.ExchangeAsync(server.EndPoint, [.. RawHttp.Get(RunningServer.StreamPath).SkipLast(2), .. "Last-Event-ID: 1\rX: y\r\n\r\n"u8]);
        Assert.Equal(400, RawHttp.Status(bare));
        var latin = await RawHttp.ExchangeAsync(server.EndPoint, [.. RawHttp.Get(RunningServer.StreamPath).SkipLast(2), .. "Last-Event-ID: "u8, 0xFF, 0xFE, .. "\r\n\r\n"u8]);
        Assert.True(RawHttp.Status(latin) is 200 or 400, latin);

        await watched.Server.Broadcaster.PublishAsync(new WorkflowExecutedEvent("after", ["a"], true, 1, DateTimeOffset.UtcNow), Token);
        await watched.VerifyWitnessesAsync(1);
    }

    public static readonly TheoryData<string, string> AbusiveTypes = new()
    {
        { "10 KB", new string('a', 10_000) },
        { "6 KB", new string('a', 6_000) },
        { "just over the limit", string.Join(",", Enumerable.Repeat("edge_created", 40)) },
        { "unknown", "bogus" },
        { "wrong case", "EDGE_CREATED" },
        { "a newline", "edge_created\nevent: x" },
        { "a NUL", "edge_created\0" },
        { "an SSE field", "event: x" },
        { "html", "<script>" },
        { "unicode", "édge_créated" },
    };

    [Theory]
    [MemberData(nameof(AbusiveTypes))]
    public async Task Abusive_types_get_400_with_json_that_echoes_nothing_unescaped(string what, string types)
    {
        await using var watched = await WatchedServer.StartAsync();
        using var response = await watched.Server.Client.GetAsync(watched.Server.StreamUri("?types=" + Uri.EscapeDataString(types)), Token);
        if (response.StatusCode == HttpStatusCode.RequestUriTooLong)
        {
            // Kestrel's request-line limit (8 KB) answers before the endpoint does: as clear.
            await watched.VerifyWitnessesAsync(0);
            return;
        }

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {response.StatusCode}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.True(error.RootElement.TryGetProperty("error", out _));
        await watched.VerifyWitnessesAsync(0);
    }

    [Fact]
    public async Task Harmless_odd_types_are_accepted_and_filter_as_documented()
    {
        await using var watched = await WatchedServer.StartAsync();

        // Only separators: no filter. Repeated parameters: joined. Duplicates: once.
        foreach (var query in new[] { "?types=,,,", "?types=%20,%20", "?types=edge_created&types=edge_created", "?types=" + string.Join(",", Enumerable.Repeat("connected", 40)) })
        {
            await using var stream = await RecordingStream.OpenAsync(watched.Server.Client, watched.Server.StreamUri(query));
            await Eventually.HoldsAsync(() => stream.CountFrames("connected") == 1, $"{query} connected");
        }

        await watched.VerifyWitnessesAsync(0);
    }

    [Fact]
    public async Task Every_method_but_get_is_refused_and_opens_no_stream()
    {
        await using var watched = await WatchedServer.StartAsync();
        var server = watched.Server;
        foreach (var method in new[] { "POST", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "PROPFIND", "FOO" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), server.StreamUri());
            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new StringContent("x");
            }

            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);
            Assert.True(response.StatusCode == HttpStatusCode.MethodNotAllowed, $"{method}: {response.StatusCode}");
            Assert.Equal(["GET", "OPTIONS"], response.Content.Headers.Allow);
            Assert.NotEqual("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        }

        // OPTIONS is what Allow says it is: 204 with the same Allow.
        using (var optionsRequest = new HttpRequestMessage(HttpMethod.Options, server.StreamUri()))
        using (var options = await server.Client.SendAsync(optionsRequest, Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, options.StatusCode);
            Assert.Equal(["GET", "OPTIONS"], options.Content.Headers.Allow);
        }

        // CONNECT in origin form is not HTTP/1.1 at all.
        var connect = await RawHttp.ExchangeAsync(server.EndPoint, Encoding.ASCII.GetBytes($"CONNECT {RunningServer.StreamPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        Assert.InRange(RawHttp.Status(connect), 400, 499);
        Assert.Equal(3, server.Broadcaster.SubscriberCount); // the witnesses only
        await watched.VerifyWitnessesAsync(0);
    }

    [Fact]
    public async Task Look_alike_origins_get_the_stream_but_no_cors_grant()
    {
        await using var watched = await WatchedServer.StartAsync();
        string[] lookAlikes =
        [
            "http://localhost:3000.evil.com", "http://127.0.0.1.evil.com", "http://localhost.evil.com:3000", "http://evil.com/http://localhost:3000",
            "http://localhost@evil.com", "http://evil.com#@localhost:3000", "https://localhost:3000", "ws://localhost:3000", "null", "",
            "http://localhost:3000/", "http://localhost:99999", "http://127.0.0.2:3000", "http://[::1]:3000",
            "http://xn--localhost-.com", "file://", "http://localhost:3000\0", "http://loca\u0131host:3000",
        ];
        // Not listed: "http://0x7f000001:3000", which System.Uri reads as 127.0.0.1 and so is
        // granted. No browser sends it (browsers send the canonical origin), so it grants nothing
        // a browser page could use; see docs/operations.md.
        foreach (var origin in lookAlikes)
        {
            var answer = await RawHttp.ExchangeAsync(
                watched.Server.EndPoint,
                [.. RawHttp.Get(RunningServer.StreamPath).SkipLast(2), .. Encoding.UTF8.GetBytes($"Origin: {origin}\r\n\r\n")],
                "event: connected\ndata: ");
            var head = answer[..Math.Max(0, answer.IndexOf("\r\n\r\n", StringComparison.Ordinal))];
            Assert.True(RawHttp.Status(answer) is 200 or 400, $"{origin}: {head}");
            Assert.False(head.Contains("Access-Control-Allow-Origin", StringComparison.OrdinalIgnoreCase), $"{origin} was granted: {head}");
        }

        // The control: a real allowed origin is granted.
        var allowed = await RawHttp.ExchangeAsync(watched.Server.EndPoint, [.. RawHttp.Get(RunningServer.StreamPath).SkipLast(2), .. "Origin: http://localhost:3000\r\n\r\n"u8], "event: connected\ndata: ");
        Assert.Contains("Access-Control-Allow-Origin: http://localhost:3000", allowed, StringComparison.Ordinal);
        await watched.VerifyWitnessesAsync(0);
    }
}
