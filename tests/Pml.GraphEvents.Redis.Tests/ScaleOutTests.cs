using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

public sealed class ScaleOutTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    /// <summary>Publishes e0…e9 on <paramref name="host"/> and returns them as a client there read them (that client then leaves).</summary>
    private static async Task<List<System.Net.ServerSentEvents.SseItem<string>>> PublishTenOnAsync(TestHost host)
    {
        await using var client = await host.OpenAsync();
        await client.ReadAsync();
        for (var i = 0; i < 10; i++)
        {
            await host.Broadcaster.PublishAsync(Events.Edge($"e{i}"), TestContext.Current.CancellationToken);
        }

        return await client.ReadAsync(10);
    }

    [Fact]
    public async Task A_client_on_B_receives_the_events_published_on_A_in_the_same_order_under_the_same_ids()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onA = await a.OpenAsync();
        await using var onB = await b.OpenAsync();
        Assert.Equal(GraphEventTypes.Connected, (await onA.ReadAsync()).EventType);
        Assert.Equal(GraphEventTypes.Connected, (await onB.ReadAsync()).EventType);

        // Both instances publish, interleaved: the stream gives one order to everybody.
        for (var i = 0; i < 50; i++)
        {
            Assert.True(a.Broadcaster.TryPublish(Events.Edge($"a{i}")));
            Assert.True(b.Broadcaster.TryPublish(Events.Edge($"b{i}")));
        }

        var seenOnA = await onA.ReadAsync(100);
        var seenOnB = await onB.ReadAsync(100);
        Assert.Equal(seenOnA.Select(i => (i.EventId, i.EventType, i.Data)), seenOnB.Select(i => (i.EventId, i.EventType, i.Data)));
        Assert.All(seenOnA, i => Assert.Equal(GraphEventTypes.EdgeCreated, i.EventType));
        var ids = seenOnA.Select(Events.Id).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(100, ids.Distinct().Count());
        var names = seenOnA.Select(Events.FromTool).ToList();
        Assert.Equal(100, names.Distinct().Count());

        // Each instance's own events keep their publish order.
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"a{i}"), names.Where(n => n[0] == 'a'));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"b{i}"), names.Where(n => n[0] == 'b'));
    }

    [Fact]
    public async Task A_client_that_moves_from_A_to_B_resumes_with_its_Last_Event_ID_without_loss_or_duplicate()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        await using var b = await ScaleOutHost.StartAsync(redis, key);
        var lastId = Events.Id((await PublishTenOnAsync(a))[^1]);

        for (var i = 10; i < 20; i++)
        {
            await a.Broadcaster.PublishAsync(Events.Edge($"e{i}"), TestContext.Current.CancellationToken);
        }

        await using var onB = await b.OpenAsync(lastId);
        var connected = await onB.ReadAsync();
        Assert.Equal(GraphEventTypes.Connected, connected.EventType);
        var rest = await onB.ReadAsync(10);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"e{i}"), rest.Select(Events.FromTool));
        Assert.All(rest, item => Assert.True(Events.Id(item) > lastId));

        await b.Broadcaster.PublishAsync(Events.Edge("live"), TestContext.Current.CancellationToken);
        Assert.Equal("live", Events.FromTool(await onB.ReadAsync()));
    }

    [Fact]
    public async Task An_id_from_a_stream_that_was_lost_is_unknown_to_the_stream_made_after_it()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        string oldId;
        await using (var a = await ScaleOutHost.StartAsync(redis, key))
        {
            oldId = (await PublishTenOnAsync(a))[^1].EventId!;
        }

        // The stream and its epoch are lost (a Redis that restarted empty, a key deleted by hand).
        await using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            await admin.GetDatabase().KeyDeleteAsync([key, $"{key}:epoch", $"{key}:config"]);
        }

        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onB = await SseClient.OpenAsync(b.Client, b.StreamUri(), r => r.Headers.Add("Last-Event-ID", oldId));
        var start = await onB.ReadAsync(2);
        Assert.Equal(GraphEventTypes.Connected, start[0].EventType);
        Assert.NotEqual(EventIds.Epoch(oldId), EventIds.Epoch(start[0].EventId));
        Assert.Equal(GraphEventTypes.EventsLost, start[1].EventType);
        Assert.Contains("\"reason\":\"unknown_last_event_id\"", start[1].Data, StringComparison.Ordinal);

        await b.Broadcaster.PublishAsync(Events.Edge("live"), TestContext.Current.CancellationToken);
        Assert.Equal("live", Events.FromTool(await onB.ReadAsync()));
    }

    [Fact]
    public async Task An_instance_started_later_replays_older_events_from_the_stream()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        var fifth = Events.Id((await PublishTenOnAsync(a))[4]);

        // B starts after the ten events: its ring has none of them, the stream has them all.
        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onB = await b.OpenAsync(fifth);
        Assert.Equal(fifth, Events.Id(await onB.ReadAsync()));
        var replayed = await onB.ReadAsync(5);
        Assert.Equal(Enumerable.Range(5, 5).Select(i => $"e{i}"), replayed.Select(Events.FromTool));

        await a.Broadcaster.PublishAsync(Events.Edge("live"), TestContext.Current.CancellationToken);
        Assert.Equal("live", Events.FromTool(await onB.ReadAsync()));
    }

    [Fact]
    public async Task A_resume_older_than_the_trimmed_stream_is_reported_before_what_remains()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        var first = Events.Id((await PublishTenOnAsync(a))[0]);

        // Trim exactly (the backplane trims with MAXLEN ~, which keeps whole nodes).
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            await admin.GetDatabase().StreamTrimAsync(key, 3);
        }

        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onB = await b.OpenAsync(first);
        Assert.Equal(first, Events.Id(await onB.ReadAsync()));
        var lost = await onB.ReadAsync();
        Assert.Equal(GraphEventTypes.EventsLost, lost.EventType);
        Assert.Contains(EventsLostReasons.ReplayWindowExceeded, lost.Data, StringComparison.Ordinal);
        Assert.Equal(["e7", "e8", "e9"], (await onB.ReadAsync(3)).Select(Events.FromTool));
    }

    [Fact]
    public async Task Publishing_keeps_working_while_Redis_is_down_and_the_events_arrive_everywhere_once_it_is_back()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onA = await a.OpenAsync();
        await using var onB = await b.OpenAsync();
        await onA.ReadAsync();
        await onB.ReadAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(a.Broadcaster.TryPublish(Events.Edge($"before{i}")));
        }

        var before = await onB.ReadAsync(5);
        Assert.Equal(before.Select(i => i.Data), (await onA.ReadAsync(5)).Select(i => i.Data));

        await redis.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            // Never throws, never waits: the events wait in the outage buffer.
            Assert.True(a.Broadcaster.TryPublish(Events.Edge($"during{i}")));
            await b.Broadcaster.PublishAsync(Events.Edge($"during-b{i}"), TestContext.Current.CancellationToken);
        }

        await redis.StartAsync();

        // This Redis has no persistence: it came back empty, a new log (a new epoch), which every
        // client is told first (log_reset); then the events that waited, the same everywhere.
        var afterOnA = await onA.ReadAsync(11);
        var afterOnB = await onB.ReadAsync(11);
        foreach (var reset in new[] { afterOnA[0], afterOnB[0] })
        {
            Assert.Equal(GraphEventTypes.EventsLost, reset.EventType);
            Assert.Contains(EventsLostReasons.LogReset, reset.Data, StringComparison.Ordinal);
            Assert.Null(reset.EventId);
        }

        afterOnA = afterOnA[1..];
        afterOnB = afterOnB[1..];
        Assert.Equal(afterOnA.Select(i => (i.EventId, i.Data)), afterOnB.Select(i => (i.EventId, i.Data)));
        Assert.NotEqual(EventIds.Epoch(before[^1].EventId), EventIds.Epoch(afterOnA[0].EventId));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"during{i}"), afterOnA.Select(Events.FromTool).Where(n => n.StartsWith("during", StringComparison.Ordinal) && !n.StartsWith("during-b", StringComparison.Ordinal)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"during-b{i}"), afterOnA.Select(Events.FromTool).Where(n => n.StartsWith("during-b", StringComparison.Ordinal)));

        Assert.True(a.Broadcaster.TryPublish(Events.Edge("after")));
        Assert.Equal("after", Events.FromTool(await onB.ReadAsync()));
        Assert.Equal("after", Events.FromTool(await onA.ReadAsync()));
        Assert.Equal(0, a.Backplane.EventsDropped);
    }

    [Fact]
    public async Task Entries_this_version_cannot_read_are_skipped_and_delivery_goes_on()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        await using var onA = await a.OpenAsync();
        await onA.ReadAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = admin.GetDatabase();

        // Hand-made or foreign entries: no fields it knows, a sequence that is not a number, an
        // unknown type, data that is not JSON. None may stop the reader, which is this host's
        // only way to deliver events, its own included.
        await db.StreamAddAsync(key, [new NameValueEntry("x", "y")]);
        await db.StreamAddAsync(key, [new NameValueEntry("t", "edge_created"), new NameValueEntry("d", "{}"), new NameValueEntry("p", "someone"), new NameValueEntry("s", "not-a-number")]);
        await db.StreamAddAsync(key, [new NameValueEntry("t", "edge_deleted"), new NameValueEntry("d", "{}")]);
        await db.StreamAddAsync(key, [new NameValueEntry("t", "edge_created"), new NameValueEntry("d", "not json")]);
        await a.Broadcaster.PublishAsync(Events.Edge("after"), TestContext.Current.CancellationToken);

        var next = await onA.ReadAsync();
        Assert.Equal(GraphEventTypes.EdgeCreated, next.EventType);
        Assert.Equal("after", Events.FromTool(next));
    }

    [Fact]
    public async Task Heartbeats_stay_local_and_never_reach_the_stream()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key, events: o => o.HeartbeatInterval = TimeSpan.FromMilliseconds(50));
        await using var onA = await a.OpenAsync();
        await onA.ReadAsync();
        Assert.Equal(GraphEventTypes.Heartbeat, (await onA.ReadAsync()).EventType);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.Equal(0, await admin.GetDatabase().StreamLengthAsync(key));
    }
}
