using System.Diagnostics.Metrics;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Redis.Tests.TestSupport;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// Issue #12, item 13: events the outage buffer had to drop are a gap every client is told about,
/// with its count, through a marker appended to the stream once Redis is back.
/// </summary>
public sealed class OutageOverflowTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    private static async Task<List<SseItem<string>>> ReadThroughAsync(SseClient client, string lastTool)
    {
        List<SseItem<string>> items = [];
        while (true)
        {
            var item = await client.ReadAsync();
            items.Add(item);
            if (item.EventType == GraphEventTypes.EdgeCreated && Events.FromTool(item) == lastTool)
            {
                return items;
            }
        }
    }

    [Fact]
    public async Task An_overflow_during_an_outage_reaches_every_client_as_events_lost_with_its_count_then_the_later_events()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key, backplane: o => o.OutageBufferCapacity = 10);
        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onA = await a.OpenAsync();
        await using var onB = await b.OpenAsync();
        await onA.ReadAsync();
        await onB.ReadAsync();
        Assert.True(a.Broadcaster.TryPublish(Events.Edge("before")));
        var before = Events.Id(await onB.ReadAsync());
        Assert.Equal(before, Events.Id(await onA.ReadAsync()));

        await redis.StopAsync();

        // More than one write batch (256) and the buffer (10) can hold: most are dropped, whatever
        // the writer took before it found Redis gone.
        const int Published = 1_000;
        for (var i = 0; i < Published; i++)
        {
            Assert.True(a.Broadcaster.TryPublish(Events.Edge($"during{i}")));
        }

        var droppedSoFar = a.Backplane.EventsDropped;
        Assert.True(droppedSoFar >= Published - 256 - 10, $"dropped {droppedSoFar}");

        await redis.StartAsync();

        // "after" is published once the buffer has drained (the newest kept event arrived): while
        // the writer still reconnects, the buffer is full and "after" would push out one more.
        var seenOnA = await ReadThroughAsync(onA, $"during{Published - 1}");
        Assert.True(a.Broadcaster.TryPublish(Events.Edge("after")));
        seenOnA.AddRange(await ReadThroughAsync(onA, "after"));
        var seenOnB = await ReadThroughAsync(onB, "after");

        // Read only now: a batch the writer held when Redis went away can still overflow the
        // buffer after the loop, and the notice counts every drop up to the moment Redis is back.
        var dropped = a.Backplane.EventsDropped;
        Assert.Equal(seenOnA.Select(i => (i.EventId, i.EventType, i.Data)), seenOnB.Select(i => (i.EventId, i.EventType, i.Data)));

        var lost = Assert.Single(seenOnA, i => i.EventType == GraphEventTypes.EventsLost);
        using (var json = JsonDocument.Parse(lost.Data))
        {
            Assert.Equal(EventsLostReasons.BufferOverflow, json.RootElement.GetProperty("reason").GetString());
            Assert.Equal(dropped, json.RootElement.GetProperty("lost_count").GetInt64());
        }

        // The notice sits where the gap is: after what the writer held, before the newest ten the
        // buffer kept; every published event is either delivered or counted in it.
        Assert.NotNull(lost.EventId);
        var names = seenOnA.Where(i => i.EventType == GraphEventTypes.EdgeCreated).Select(Events.FromTool).ToList();
        Assert.Equal(Published - dropped, names.Count(n => n.StartsWith("during", StringComparison.Ordinal)));
        var afterNotice = seenOnA.SkipWhile(i => i.EventType != GraphEventTypes.EventsLost).Skip(1).Select(Events.FromTool).ToList();
        Assert.Equal([.. Enumerable.Range(Published - 10, 10).Select(i => $"during{i}"), "after"], afterNotice);

        // A resume across the gap replays the notice too, under the same id.
        await using var resumed = await b.OpenAsync(before);
        Assert.Equal(GraphEventTypes.Connected, (await resumed.ReadAsync()).EventType);
        var replayed = await ReadThroughAsync(resumed, "after");
        Assert.Equal(seenOnB.Select(i => (i.EventId, i.EventType, i.Data)), replayed.Select(i => (i.EventId, i.EventType, i.Data)));

        // Counted on the Redis package's meter.
        var meters = a.App.Services.GetRequiredService<IMeterFactory>();
        Assert.Equal(dropped, MeterReading.Read(meters, "pml.graph_events.redis.events.dropped", "outage_buffer_full"));
        Assert.Equal(Published - dropped + 2, MeterReading.Read(meters, "pml.graph_events.redis.events.appended"));
    }
}
