using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class StreamResponseTests
{
    [Fact]
    public async Task The_headers_and_the_connected_frame_arrive_at_once_byte_for_byte()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var server = await StreamServer.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));

        // Raw HTTP/1.1, to see the exact bytes: nothing is published, so anything that arrives
        // was flushed by the endpoint at once.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint, TestContext.Current.CancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {StreamServer.Path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"), TestContext.Current.CancellationToken);
        var text = await RawHttp.ReceiveUntilAsync(socket, "event: connected\ndata: ", "}\n\n");

        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = text[..split].Split("\r\n");
        Assert.Equal("HTTP/1.1 200 OK", head[0]);
        var headers = head.Skip(1).Select(h => h.Split(": ", 2)).ToDictionary(h => h[0], h => h[1], StringComparer.OrdinalIgnoreCase);
        Assert.Equal("text/event-stream", headers["Content-Type"]);
        Assert.Equal("no-cache", headers["Cache-Control"]);
        Assert.Equal("no", headers["X-Accel-Buffering"]);
        Assert.Equal("identity", headers["Content-Encoding"]);
        Assert.Equal("Origin", headers["Vary"]);
        Assert.Equal("chunked", headers["Transfer-Encoding"]);
        Assert.False(headers.ContainsKey("Content-Length"));

        var body = RawHttp.Dechunk(text[(split + 4)..]);
        var clientId = server.Broadcaster.SubscriberCount == 1 ? JsonDocument.Parse(body[(body.IndexOf('{', StringComparison.Ordinal))..].TrimEnd('\n')).RootElement.GetProperty("client_id").GetString() : null;
        Assert.NotNull(clientId);

        // An empty log: the connected frame carries offset 0 of this log's epoch.
        var id = body.Split('\n')[1]["id: ".Length..];
        Assert.Matches("^[0-9a-z]{10}-0$", id);
        Assert.Equal(
            "retry: 3000\nid: " + id + "\nevent: connected\ndata: {\"client_id\":\"" + clientId + "\",\"connected_clients\":1,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n",
            body);
    }

    [Fact]
    public async Task Every_event_type_arrives_in_order_with_its_id_and_exact_data()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var server = await StreamServer.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        var connected = await client.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal(TimeSpan.FromSeconds(3), connected.ReconnectionInterval);

        // An in-process subscriber sees the very frames the endpoint writes: the wire must carry them unchanged.
        using var local = server.Broadcaster.Subscribe();
        var events = SampleEvents.Publishable();
        await server.Broadcaster.PublishAsync(events);
        var items = await client.ReadAsync(events.Count);

        // A heartbeat is the broadcaster's own (publishing one is refused): its clock sends it.
        time.Advance(new GraphEventsOptions().HeartbeatInterval);
        items.Add(await client.ReadAsync());
        var expected = events.Count + 1;
        var frames = new List<GraphEventFrame>();
        await foreach (var frame in local.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            if (frame.EventType != "connected" && frames.Count < expected)
            {
                frames.Add(frame);
            }

            if (frames.Count == expected)
            {
                break;
            }
        }

        Assert.Equal([.. events.Select(e => e.EventType), "heartbeat"], items.Select(i => i.EventType));
        Assert.Equal(["graph_synced", "edge_created", "edge_updated", "workflow_executed", "metrics_updated", "heartbeat"], items.Select(i => i.EventType));
        for (var i = 0; i < expected; i++)
        {
            var frame = Encoding.UTF8.GetString(frames[i].Utf8Bytes.Span);
            var data = frame[(frame.IndexOf("data: ", StringComparison.Ordinal) + 6)..].TrimEnd('\n');
            Assert.Equal(frames[i].Id, items[i].EventId);
            Assert.Equal(data, items[i].Data);
        }

        // Heartbeats carry no id, so they never move a client's Last-Event-ID.
        Assert.Equal([1L, 2, 3, 4, 5], items.Take(5).Select(i => EventIds.Offset(i.EventId)));
    }

    [Fact]
    public async Task A_types_filter_delivers_only_those_types_and_the_control_events()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var server = await StreamServer.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri("?types=edge_created,%20metrics_updated,,"));
        Assert.Equal("connected", (await client.ReadAsync()).EventType);

        await server.Broadcaster.PublishAsync(SampleEvents.Publishable());
        var items = await client.ReadAsync(2);
        time.Advance(new GraphEventsOptions().HeartbeatInterval);
        items.Add(await client.ReadAsync());
        Assert.Equal(["edge_created", "metrics_updated", "heartbeat"], items.Select(i => i.EventType));
    }

    [Theory]
    [InlineData("?types=edge_created,bogus,nope", "bogus, nope")]
    [InlineData("?types=Edge_Created", "Edge_Created")]
    public async Task Unknown_types_get_400_naming_them(string query, string named)
    {
        await using var server = await StreamServer.StartAsync();
        using var response = await server.Client.GetAsync(server.StreamUri(query), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains(named, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(named.Split(", "), json.RootElement.GetProperty("unknown_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_types_value_that_is_too_long_gets_400()
    {
        await using var server = await StreamServer.StartAsync();
        using var response = await server.Client.GetAsync(server.StreamUri("?types=" + string.Join(",", Enumerable.Repeat("edge_created", 100))), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("longer than", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("HEAD")]
    [InlineData("TRACE")]
    [InlineData("PROPFIND")]
    [InlineData("FOO")]
    public async Task Methods_other_than_GET_and_OPTIONS_get_405_with_Allow(string method)
    {
        await using var server = await StreamServer.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), server.StreamUri());
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "OPTIONS"], response.Content.Headers.Allow);
        Assert.Equal(["Origin"], response.Headers.Vary);
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_plain_OPTIONS_gets_204_with_the_Allow_of_a_405()
    {
        await using var server = await StreamServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Options, server.StreamUri());
        request.Headers.Add("Origin", "http://localhost:3000");
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        using var post = await server.Client.PostAsync(server.StreamUri(), null, TestContext.Current.CancellationToken);

        // Allow is the truth on both: what answers 405 is not listed, what is listed does not answer 405.
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["GET", "OPTIONS"], response.Content.Headers.Allow);
        Assert.Equal(post.Content.Headers.Allow, response.Content.Headers.Allow);
        Assert.Equal(["Origin"], response.Headers.Vary);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));

        // Not a preflight: CORS applies as to any request, and grants no methods.
        Assert.Equal("http://localhost:3000", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Methods"));
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task The_returned_builder_takes_endpoint_conventions()
    {
        // RequireHost is a convention like RequireAuthorization or RequireCors: if the builder
        // passes it to the endpoints, a request to any other host finds no endpoint.
        await using var server = await StreamServer.StartAsync(conventions: e => e.RequireHost("events.example"));
        using var response = await server.Client.GetAsync(server.StreamUri(), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
