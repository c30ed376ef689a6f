using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class ResumeTests
{
    [Fact]
    public async Task A_client_that_reconnects_with_Last_Event_ID_loses_nothing()
    {
        await using var server = await StreamServer.StartAsync();
        int lastSeen;
        await using (var first = await SseClient.OpenAsync(server.Client, server.StreamUri()))
        {
            await first.ReadAsync();
            await server.Broadcaster.PublishAsync(Enumerable.Range(0, 5).Select(SampleEvents.Edge));
            var items = await first.ReadAsync(5);
            lastSeen = int.Parse(items[^1].EventId!, System.Globalization.CultureInfo.InvariantCulture);
        }

        // Published while the client is away.
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "the first stream ended");
        await server.Broadcaster.PublishAsync(Enumerable.Range(5, 5).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId == 10, "10 events broadcast");

        await using var second = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", lastSeen.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var connected = await second.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal("5", connected.EventId);
        await server.Broadcaster.PublishAsync([SampleEvents.Edge(10)]);
        var resumed = await second.ReadAsync(6);
        Assert.Equal(["6", "7", "8", "9", "10", "11"], resumed.Select(i => i.EventId));
        Assert.All(resumed, i => Assert.Equal("edge_created", i.EventType));
    }

    [Fact]
    public async Task The_last_event_id_query_parameter_resumes_a_first_request_and_the_header_wins_over_it()
    {
        await using var server = await StreamServer.StartAsync();
        await server.Broadcaster.PublishAsync(Enumerable.Range(0, 10).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId == 10, "10 events broadcast");

        await using (var byQuery = await SseClient.OpenAsync(server.Client, server.StreamUri("?last_event_id=7")))
        {
            Assert.Equal("7", (await byQuery.ReadAsync()).EventId);
            Assert.Equal(["8", "9", "10"], (await byQuery.ReadAsync(3)).Select(i => i.EventId));
        }

        await using var both = await SseClient.OpenAsync(server.Client, server.StreamUri("?last_event_id=2"), r => r.Headers.Add("Last-Event-ID", "9"));
        Assert.Equal("9", (await both.ReadAsync()).EventId);
        Assert.Equal("10", (await both.ReadAsync()).EventId);
    }

    [Fact]
    public async Task An_id_older_than_the_replay_window_is_announced_by_events_lost_before_the_replay()
    {
        await using var server = await StreamServer.StartAsync(events: o => o.ReplayCapacity = 4);
        await server.Broadcaster.PublishAsync(Enumerable.Range(0, 10).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId == 10, "10 events broadcast");

        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", "2"));
        var items = await client.ReadAsync(1 + 1 + 4);

        Assert.Equal("connected", items[0].EventType);
        Assert.Equal("events_lost", items[1].EventType);
        Assert.Null(items[1].EventId);
        Assert.Contains("\"reason\":\"replay_window_exceeded\"", items[1].Data, StringComparison.Ordinal);
        Assert.Contains("\"lost_count\":4", items[1].Data, StringComparison.Ordinal);
        Assert.Equal(["7", "8", "9", "10"], items.Skip(2).Select(i => i.EventId));
    }

    [Fact]
    public async Task An_id_this_server_never_issued_is_announced_as_unknown()
    {
        await using var server = await StreamServer.StartAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", "500"));
        var items = await client.ReadAsync(2);
        Assert.Equal("connected", items[0].EventType);
        Assert.Equal("events_lost", items[1].EventType);
        Assert.Contains("\"reason\":\"unknown_last_event_id\"", items[1].Data, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData(" 3")]
    [InlineData("3.0")]
    [InlineData("99999999999999999999")]
    [InlineData("")]
    public async Task A_malformed_Last_Event_ID_is_ignored_and_the_client_starts_live(string value)
    {
        await using var server = await StreamServer.StartAsync();
        await server.Broadcaster.PublishAsync(Enumerable.Range(0, 3).Select(SampleEvents.Edge));
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId == 3, "3 events broadcast");

        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.TryAddWithoutValidation("Last-Event-ID", value));
        var connected = await client.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal("3", connected.EventId);

        // Live, with no loss notice and no replay: the next thing is the next event.
        await server.Broadcaster.PublishAsync([SampleEvents.Edge(3)]);
        var next = await client.ReadAsync();
        Assert.Equal("edge_created", next.EventType);
        Assert.Equal("4", next.EventId);
    }
}
