using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class ReplayTests
{
    [Fact]
    public async Task Resume_replays_what_follows_the_last_event_id_then_goes_live()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 10);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 5 });
        await broadcaster.PublishAsync(SampleEvents.Edge(10), TestContext.Current.CancellationToken);

        var frames = await resumed.ReadAsync(1 + 5 + 1);
        Assert.Equal(5, frames[0].Id);
        Assert.IsType<ConnectedEvent>(frames[0].Event);
        Assert.Equal([6L, 7, 8, 9, 10, 11], frames.Skip(1).Select(f => f.Id!.Value));
        Assert.Equal(0, resumed.FramesLost);
    }

    [Fact]
    public async Task An_id_older_than_the_window_is_reported_before_the_replay()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { ReplayCapacity = 4 });
        await PublishAndSettleAsync(broadcaster, 10);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 2 });

        var frames = await resumed.ReadAsync(1 + 1 + 4);
        Assert.Equal(6, frames[0].Id);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal(EventsLostReasons.ReplayWindowExceeded, lost.Reason);
        Assert.Equal(4, lost.LostCount);
        Assert.Equal([7L, 8, 9, 10], frames.Skip(2).Select(f => f.Id!.Value));
        Assert.Equal(4, resumed.FramesLost);
    }

    [Fact]
    public async Task An_id_never_issued_is_reported_as_unknown()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 3);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 500 });

        var frames = await resumed.ReadAsync(2);
        Assert.Equal(3, frames[0].Id);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal(EventsLostReasons.UnknownLastEventId, lost.Reason);
        Assert.Null(lost.LostCount);
    }

    [Fact]
    public async Task An_invalid_resume_position_starts_live_after_an_invalid_last_event_id_notice()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 3);

        using var invalid = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventIdInvalid = true });
        var frames = await invalid.ReadAsync(2);
        Assert.Equal(3, frames[0].Id);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal(EventsLostReasons.InvalidLastEventId, lost.Reason);
        Assert.Null(lost.LostCount);
        Assert.Null(frames[1].Id);
        Assert.False(invalid.TryRead(out _));
        Assert.Equal(0, invalid.FramesLost);

        // With an id as well, the id decides (here: up to date, so no notice at all).
        using var withId = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 3, LastEventIdInvalid = true });
        Assert.Equal(3, (await withId.ReadAsync(1))[0].Id);
        Assert.False(withId.TryRead(out _));
    }

    [Fact]
    public async Task Ids_start_after_EventIdStart_and_an_id_from_before_it_is_reported_as_unknown()
    {
        // A second run of a process, started above the first run's ids.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { EventIdStart = 5_000 });
        await PublishAndSettleAsync(broadcaster, 3);
        Assert.Equal(5_003, broadcaster.GetStatistics().LastEventId);

        // A client of the first run, whose id this run also reached... would have resumed silently
        // from unrelated events if ids began again at 1; it is told instead.
        using var fromEarlierRun = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 2 });
        var frames = await fromEarlierRun.ReadAsync(2);
        Assert.Equal(5_003, frames[0].Id);
        Assert.Equal(EventsLostReasons.UnknownLastEventId, Assert.IsType<EventsLostEvent>(frames[1].Event).Reason);
        Assert.False(fromEarlierRun.TryRead(out _));

        // A client of this run resumes as usual, from the run's start included.
        using var fromThisRun = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 5_000 });
        var resumed = await fromThisRun.ReadAsync(4);
        Assert.Equal(5_000, resumed[0].Id);
        Assert.Equal([5_001L, 5_002, 5_003], resumed.Skip(1).Select(f => f.Id!.Value));
    }

    [Fact]
    public async Task Resume_at_the_newest_id_replays_nothing_and_the_filter_applies_to_replay()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 2);
        await broadcaster.PublishAsync(new GraphSyncedEvent(1, 1, 1, SampleEvents.Timestamp), TestContext.Current.CancellationToken);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().LastEventId == 3, "three events");

        using var upToDate = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 3 });
        using var filtered = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = 0, EventTypes = [GraphEventTypes.GraphSynced] });

        Assert.Equal(3, (await upToDate.ReadAsync(1))[0].Id);
        Assert.False(upToDate.TryRead(out _));
        var frames = await filtered.ReadAsync(2);
        Assert.Equal(0, frames[0].Id);
        Assert.Equal(GraphEventTypes.GraphSynced, frames[1].EventType);
        Assert.False(filtered.TryRead(out _));
    }

    [Fact]
    public async Task Subscribing_while_publishing_never_duplicates_or_skips_an_event()
    {
        // The connected frame's id and the live stream are cut atomically: a subscriber that
        // resumes from the id in its connected frame sees each event exactly once.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { SubscriberBufferCapacity = 20_000, ReplayCapacity = 20_000, MaxSubscribers = 100_000 });
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
            }
        }, TestContext.Current.CancellationToken);

        var subscriptions = new List<GraphEventSubscription>();
        while (!publisher.IsCompleted)
        {
            subscriptions.Add(broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = Random.Shared.Next(0, 100) }));
            await Task.Yield();
        }

        await publisher;
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().LastEventId == 5_000, "all events pumped");
        foreach (var subscription in subscriptions)
        {
            var frames = new List<GraphEventFrame>();
            while (subscription.TryRead(out var frame))
            {
                frames.Add(frame);
            }

            var start = frames[0].Id!.Value;
            var ids = frames.Where(f => f.EventType == GraphEventTypes.EdgeCreated).Select(f => f.Id!.Value).ToList();
            Assert.Equal(Enumerable.Range((int)start + 1, 5_000 - (int)start).Select(i => (long)i), ids);
            subscription.Dispose();
        }
    }

    private static async Task PublishAndSettleAsync(IGraphEventBroadcaster broadcaster, int count)
    {
        var before = broadcaster.GetStatistics().LastEventId;
        for (var i = 0; i < count; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().LastEventId == before + count, $"{count} events pumped");
    }
}
