using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class ResumeTests
{
    [Fact]
    public async Task A_client_that_reconnects_with_Last_Event_ID_loses_nothing()
    {
        await using var server = await StreamServer.StartAsync();
        string lastSeen;
        await using (var first = await SseClient.OpenAsync(server.Client, server.StreamUri()))
        {
            await first.ReadAsync();
            await server.Broadcaster.PublishAsync(Enumerable.Range(0, 5).Select(SampleEvents.Edge));
            var items = await first.ReadAsync(5);
            lastSeen = items[^1].EventId!;
        }

        // Published while the client is away.
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "the first stream ended");
        await server.Broadcaster.PublishAsync(Enumerable.Range(5, 5).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId is { } id && EventIds.Offset(id) == 10, "10 events broadcast");

        await using var second = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", lastSeen));
        var connected = await second.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal(Id(server, 5), connected.EventId);
        await server.Broadcaster.PublishAsync([SampleEvents.Edge(10)]);
        var resumed = await second.ReadAsync(6);
        Assert.Equal(Ids(server, 6, 11), resumed.Select(i => i.EventId));
        Assert.All(resumed, i => Assert.Equal("edge_created", i.EventType));
    }

    [Fact]
    public async Task The_last_event_id_query_parameter_resumes_a_first_request_and_the_header_wins_over_it()
    {
        await using var server = await StreamServer.StartAsync();
        await server.Broadcaster.PublishAsync(Enumerable.Range(0, 10).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId is { } id && EventIds.Offset(id) == 10, "10 events broadcast");

        await using (var byQuery = await SseClient.OpenAsync(server.Client, server.StreamUri($"?last_event_id={Id(server, 7)}")))
        {
            Assert.Equal(Id(server, 7), (await byQuery.ReadAsync()).EventId);
            Assert.Equal(Ids(server, 8, 10), (await byQuery.ReadAsync(3)).Select(i => i.EventId));
        }

        await using var both = await SseClient.OpenAsync(server.Client, server.StreamUri($"?last_event_id={Id(server, 2)}"), r => r.Headers.Add("Last-Event-ID", Id(server, 9)));
        Assert.Equal(Id(server, 9), (await both.ReadAsync()).EventId);
        Assert.Equal(Id(server, 10), (await both.ReadAsync()).EventId);
    }

    [Fact]
    public async Task An_id_older_than_the_replay_window_is_announced_by_events_lost_before_the_replay()
    {
        await using var server = await StreamServer.StartAsync(events: o => o.ReplayCapacity = 4);
        await server.Broadcaster.PublishAsync(Enumerable.Range(0, 10).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId is { } id && EventIds.Offset(id) == 10, "10 events broadcast");

        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", Id(server, 2)));
        var items = await client.ReadAsync(1 + 1 + 4);

        Assert.Equal("connected", items[0].EventType);
        Assert.Equal("events_lost", items[1].EventType);
        Assert.Null(items[1].EventId);
        Assert.Contains("\"reason\":\"replay_window_exceeded\"", items[1].Data, StringComparison.Ordinal);
        Assert.Contains("\"lost_count\":4", items[1].Data, StringComparison.Ordinal);
        Assert.Equal(Ids(server, 7, 10), items.Skip(2).Select(i => i.EventId));
    }

    [Fact]
    public async Task An_id_from_another_log_is_announced_as_unknown_and_the_client_starts_live()
    {
        // Another broadcaster's log (another server, a lost database): same offsets, other epoch.
        await using var server = await StartWithThreeEventsAsync();
        await using var other = GraphEventBroadcaster.Create();
        await other.PublishAsync(SampleEvents.Edge(0), TestContext.Current.CancellationToken);
        await Eventually.HoldsAsync(() => other.GetStatistics().LastEventId is not null, "the other log issued an id");
        var foreign = other.GetStatistics().LastEventId!;
        Assert.NotEqual(EventIds.Epoch(foreign), EventIds.Epoch(Id(server, 1)));

        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", foreign));
        await AssertLiveWithUnknownNoticeAsync(server, client);
    }

    [Fact]
    public async Task An_id_ahead_of_the_log_is_announced_as_unknown_and_the_client_starts_live()
    {
        await using var server = await StartWithThreeEventsAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", Id(server, 500)));
        await AssertLiveWithUnknownNoticeAsync(server, client);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData("3.0")]
    [InlineData("0x3")]
    [InlineData("99999999999999999999")]
    [InlineData("2, 3")]
    [InlineData("2,3")]
    [InlineData("3")]
    [InlineData("0123456789")]
    [InlineData("0123456789-")]
    [InlineData("0123456789-03")]
    [InlineData("0123456789-99999999999999999999")]
    [InlineData("0123456789--3")]
    [InlineData("0123456789-3 ")]
    public async Task A_malformed_Last_Event_ID_starts_live_with_an_events_lost_notice(string value)
    {
        await using var server = await StartWithThreeEventsAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.TryAddWithoutValidation("Last-Event-ID", value));
        await AssertLiveWithUnknownNoticeAsync(server, client);
    }

    [Fact]
    public async Task Two_Last_Event_ID_headers_start_live_with_an_events_lost_notice()
    {
        await using var server = await StartWithThreeEventsAsync();

        // Raw, so that the two headers reach the server as two lines, as a proxy that adds one would send them.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint, TestContext.Current.CancellationToken);
        await socket.SendAsync(RawHttp.Get(StreamServer.Path, $"Last-Event-ID: {Id(server, 1)}\r\nLast-Event-ID: {Id(server, 2)}\r\n"), TestContext.Current.CancellationToken);
        var text = await RawHttp.ReceiveUntilAsync(socket, "event: events_lost\ndata: ", "}\n\n");
        Assert.StartsWith("HTTP/1.1 200 OK", text, StringComparison.Ordinal);
        var body = RawHttp.Dechunk(text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        Assert.Contains($"id: {Id(server, 3)}\nevent: connected\n", body, StringComparison.Ordinal);
        Assert.Contains("event: events_lost\ndata: {\"reason\":\"unknown_last_event_id\",\"lost_count\":null,", body, StringComparison.Ordinal);

        // Nothing was replayed: after the notice comes nothing until the next event.
        Assert.DoesNotContain("edge_created", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_last_event_id_query_parameters_start_live_with_an_events_lost_notice()
    {
        await using var server = await StartWithThreeEventsAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri($"?last_event_id={Id(server, 1)}&last_event_id={Id(server, 2)}"));
        await AssertLiveWithUnknownNoticeAsync(server, client);
    }

    [Fact]
    public async Task A_malformed_header_wins_over_a_valid_query_parameter()
    {
        // The header is the latest position an EventSource knows; the query is its first URL's.
        await using var server = await StartWithThreeEventsAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri($"?last_event_id={Id(server, 1)}"), r => r.Headers.TryAddWithoutValidation("Last-Event-ID", "x"));
        await AssertLiveWithUnknownNoticeAsync(server, client);
    }

    [Fact]
    public async Task An_empty_Last_Event_ID_is_no_id_and_the_client_starts_live_without_notice()
    {
        // An EventSource whose last id is empty sends no header; an empty one says the same.
        await using var server = await StartWithThreeEventsAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.TryAddWithoutValidation("Last-Event-ID", string.Empty));
        var connected = await client.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal(Id(server, 3), connected.EventId);

        await server.Broadcaster.PublishAsync([SampleEvents.Edge(3)]);
        var next = await client.ReadAsync();
        Assert.Equal("edge_created", next.EventType);
        Assert.Equal(Id(server, 4), next.EventId);
    }

    private static async Task<TestHost> StartWithThreeEventsAsync()
    {
        var server = await StreamServer.StartAsync();
        await server.Broadcaster.PublishAsync(Enumerable.Range(0, 3).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId is { } id && EventIds.Offset(id) == 3, "3 events broadcast");
        return server;
    }

    private static async Task AssertLiveWithUnknownNoticeAsync(TestHost server, SseClient client)
    {
        var connected = await client.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal(Id(server, 3), connected.EventId);

        // Told, not left to believe it resumed: the notice, without an id, then live events only.
        var notice = await client.ReadAsync();
        Assert.Equal("events_lost", notice.EventType);
        Assert.Null(notice.EventId);
        Assert.Contains("\"reason\":\"unknown_last_event_id\",\"lost_count\":null", notice.Data, StringComparison.Ordinal);

        await server.Broadcaster.PublishAsync([SampleEvents.Edge(3)]);
        var next = await client.ReadAsync();
        Assert.Equal("edge_created", next.EventType);
        Assert.Equal(Id(server, 4), next.EventId);
    }

    /// <summary>The id of <paramref name="offset"/> in the server's log (its epoch read from the last id it issued).</summary>
    private static string Id(TestHost server, long offset) => EventIds.At(server.Broadcaster.GetStatistics().LastEventId, offset);

    private static string[] Ids(TestHost server, long first, long last) => [.. Enumerable.Range((int)first, (int)(last - first + 1)).Select(o => Id(server, o))];
}
