using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Redis.Tests.TestSupport;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>Issue 13, item 1 (Redis part): a host's own event type crosses hosts through the stream.</summary>
public sealed class CustomEventTypeTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_custom_event_published_on_A_arrives_typed_on_B_under_the_same_id_as_on_A()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key, events: HostEvents.Register);
        await using var b = await ScaleOutHost.StartAsync(redis, key, events: HostEvents.Register);
        using var inProcessOnB = b.Broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [CapabilityLearned.Name] });
        await using var sseOnA = await a.OpenAsync();
        await sseOnA.ReadAsync();

        await a.Broadcaster.PublishAsync(Events.Edge("e0"), Ct);
        await a.Broadcaster.PublishAsync(new CapabilityLearned("git.commit", 0.75, Events.Timestamp), Ct);

        var onB = await ReadAsync(inProcessOnB, 2);
        Assert.IsType<ConnectedEvent>(onB[0].Event);
        Assert.Equal(new CapabilityLearned("git.commit", 0.75, Events.Timestamp), onB[1].Event);
        Assert.Equal(
            $"id: {onB[1].Id}\nevent: capability_learned\ndata: {{\"capability\":\"git.commit\",\"confidence\":0.75,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}}\n\n",
            System.Text.Encoding.UTF8.GetString(onB[1].Utf8Bytes.Span));

        var onA = await sseOnA.ReadAsync(2);
        Assert.Equal([GraphEventTypes.EdgeCreated, CapabilityLearned.Name], onA.Select(i => i.EventType));
        Assert.Equal(onB[1].Id, onA[1].EventId);
    }

    [Fact]
    public async Task A_host_started_later_replays_custom_events_from_the_stream_filtered()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key, events: HostEvents.Register);
        using var watcher = a.Broadcaster.Subscribe();
        await a.Broadcaster.PublishAsync(Events.Edge("before"), Ct);
        await a.Broadcaster.PublishAsync(new CapabilityLearned("first", 0.5, Events.Timestamp), Ct);
        await a.Broadcaster.PublishAsync(Events.Edge("between"), Ct);
        await a.Broadcaster.PublishAsync(new CapabilityLearned("second", 0.6, Events.Timestamp), Ct);
        var published = await ReadAsync(watcher, 5);

        // B's ring holds none of them: a resume from the first id is read from the stream, where
        // B must decode the custom type with its registry and apply the filter bit.
        await using var b = await ScaleOutHost.StartAsync(redis, key, events: HostEvents.Register);
        using var resumed = b.Broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = published[1].Id, EventTypes = [CapabilityLearned.Name] });
        var frames = await ReadAsync(resumed, 3);
        Assert.Equal(["first", "second"], frames.Skip(1).Select(f => Assert.IsType<CapabilityLearned>(f.Event).Capability));
        Assert.Equal([published[2].Id, published[4].Id], frames.Skip(1).Select(f => f.Id));
        Assert.Equal(0, resumed.FramesLost);
    }

    [Fact]
    public async Task A_host_that_does_not_know_the_type_skips_it_and_goes_on()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        var logs = new ListLoggerProvider();
        await using var a = await ScaleOutHost.StartAsync(redis, key, events: HostEvents.Register);
        await using var unaware = await ScaleOutHost.StartAsync(redis, key, services: s => s.AddSingleton<ILoggerProvider>(logs));
        await using var onUnaware = await unaware.OpenAsync();
        await onUnaware.ReadAsync();

        await a.Broadcaster.PublishAsync(new CapabilityLearned("unknown there", 0.5, Events.Timestamp), Ct);
        await a.Broadcaster.PublishAsync(Events.Edge("after"), Ct);

        var next = await onUnaware.ReadAsync();
        Assert.Equal(GraphEventTypes.EdgeCreated, next.EventType);
        Assert.Equal("after", Events.FromTool(next));
        Assert.Contains(logs.Entries, e => e.Message.Contains("'capability_learned' is not a broadcast event type known here", StringComparison.Ordinal));
    }

    private static async Task<List<GraphEventFrame>> ReadAsync(GraphEventSubscription subscription, int count)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(SseClient.Deadline);
        List<GraphEventFrame> frames = [];
        await foreach (var frame in subscription.ReadAllAsync(deadline.Token))
        {
            frames.Add(frame);
            if (frames.Count == count)
            {
                break;
            }
        }

        return frames;
    }
}
