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

    private static bool IsLogReset(SseItem<string> item) =>
        item.EventType == GraphEventTypes.EventsLost && item.Data.Contains($"\"{EventsLostReasons.LogReset}\"", StringComparison.Ordinal);

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
        // This Redis has no persistence: it came back empty, a new log, which each instance announces
        // to its own clients (log_reset, no id, its own timestamp). What follows is the same everywhere.
        Assert.Equal(1, seenOnA.Count(IsLogReset));
        Assert.Equal(1, seenOnB.Count(IsLogReset));
        seenOnA.RemoveAll(IsLogReset);
        seenOnB.RemoveAll(IsLogReset);
        Assert.Equal(seenOnA.Select(i => (i.EventId, i.EventType, i.Data)), seenOnB.Select(i => (i.EventId, i.EventType, i.Data)));

        // Every drop is announced: usually one notice, but a writer that reconnects while Redis is
        // still coming up can overflow again, and then a second notice carries the rest. The
        // counts add up to every drop, and each notice has an id (it is replayable).
        var notices = seenOnA.Where(i => i.EventType == GraphEventTypes.EventsLost).ToList();
        Assert.NotEmpty(notices);
        long announced = 0;
        foreach (var notice in notices)
        {
            Assert.NotNull(notice.EventId);
            using var json = JsonDocument.Parse(notice.Data);
            Assert.Equal(EventsLostReasons.BufferOverflow, json.RootElement.GetProperty("reason").GetString());
            announced += json.RootElement.GetProperty("lost_count").GetInt64();
        }

        Assert.Equal(dropped, announced);

        // Every published event is either delivered, in order, or counted in a notice; the newest
        // event the buffer kept and the one published after the outage arrive last.
        var names = seenOnA.Where(i => i.EventType == GraphEventTypes.EdgeCreated).Select(Events.FromTool).ToList();
        var during = names.Where(n => n.StartsWith("during", StringComparison.Ordinal)).ToList();
        Assert.Equal(Published - dropped, during.Count);
        Assert.Equal(during.OrderBy(n => int.Parse(n["during".Length..], System.Globalization.CultureInfo.InvariantCulture)), during);
        Assert.Equal([$"during{Published - 1}", "after"], names[^2..]);

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
