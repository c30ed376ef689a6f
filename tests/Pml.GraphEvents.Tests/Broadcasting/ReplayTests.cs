using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class ReplayTests
{
    [Fact]
    public async Task Resume_replays_what_follows_the_last_event_id_then_goes_live()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 10);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(5) });
        await broadcaster.PublishAsync(SampleEvents.Edge(10), TestContext.Current.CancellationToken);

        var frames = await resumed.ReadAsync(1 + 5 + 1);
        Assert.Equal(broadcaster.IdAt(5), frames[0].Id);
        Assert.IsType<ConnectedEvent>(frames[0].Event);
        Assert.Equal([6L, 7, 8, 9, 10, 11], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.All(frames, f => Assert.Equal(broadcaster.IdAt(EventIdTesting.OffsetOf(f)), f.Id));
        Assert.Equal(0, resumed.FramesLost);
    }

    [Fact]
    public async Task The_first_event_has_offset_1_and_the_connected_frame_carries_the_last_id()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        Assert.Null(broadcaster.GetStatistics().LastEventId);

        // Nothing published yet: the connected frame says "nothing", offset 0 of this log.
        using var early = broadcaster.Subscribe();
        var connected = Assert.Single(await early.ReadAsync(1));
        Assert.Equal(broadcaster.IdAt(0), connected.Id);
        Assert.Matches("^[0-9a-hjkmnp-tv-z]{10}-0$", connected.Id);

        await PublishAndSettleAsync(broadcaster, 1);
        var first = Assert.Single(await early.ReadAsync(1));
        Assert.Equal(broadcaster.IdAt(1), first.Id);
        Assert.Equal(broadcaster.IdAt(1), broadcaster.GetStatistics().LastEventId);
    }

    [Fact]
    public async Task A_resume_from_offset_0_replays_everything_the_ring_still_holds()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var early = broadcaster.Subscribe();
        var zero = (await early.ReadAsync(1))[0].Id;
        await PublishAndSettleAsync(broadcaster, 5);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = zero });
        var frames = await resumed.ReadAsync(1 + 5);
        Assert.Equal(broadcaster.IdAt(0), zero);
        Assert.Equal(zero, frames[0].Id);
        Assert.IsType<ConnectedEvent>(frames[0].Event);
        Assert.Equal([1L, 2, 3, 4, 5], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.All(frames.Skip(1), f => Assert.IsType<EdgeCreatedEvent>(f.Event));
        Assert.False(resumed.TryRead(out _));
        Assert.Equal(0, resumed.FramesLost);
    }

    [Fact]
    public async Task An_id_older_than_the_window_is_reported_before_the_replay()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { ReplayCapacity = 4 });
        await PublishAndSettleAsync(broadcaster, 10);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(2) });

        var frames = await resumed.ReadAsync(1 + 1 + 4);
        Assert.Equal(broadcaster.IdAt(6), frames[0].Id);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal(EventsLostReasons.ReplayWindowExceeded, lost.Reason);
        Assert.Equal(4, lost.LostCount);
        Assert.Null(frames[1].Id);
        Assert.Equal([7L, 8, 9, 10], frames.Skip(2).Select(EventIdTesting.OffsetOf));
        Assert.Equal(4, resumed.FramesLost);
    }

    [Fact]
    public async Task An_id_ahead_of_the_log_is_reported_as_unknown_then_live()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 3);

        await AssertUnknownThenLiveAsync(broadcaster, broadcaster.IdAt(500), lastOffset: 3);
        await AssertUnknownThenLiveAsync(broadcaster, broadcaster.IdAt(5), lastOffset: 4);
        await AssertUnknownThenLiveAsync(broadcaster, broadcaster.IdAt(long.MaxValue), lastOffset: 5);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("12")]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task A_malformed_id_is_reported_as_unknown_then_live(string lastEventId)
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 3);

        await AssertUnknownThenLiveAsync(broadcaster, lastEventId, lastOffset: 3);
    }

    [Fact]
    public async Task An_id_of_this_log_spelt_another_way_is_malformed_and_reported_as_unknown()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 3);
        var epoch = EventIdTesting.EpochOf(broadcaster);

        // Each names an event this log holds (or would, but for the spelling); none may replay.
        string[] malformed =
        [
            $"{broadcaster.IdAt(1)},{broadcaster.IdAt(2)}", // two ids joined, as two Last-Event-ID headers would be
            $"{broadcaster.IdAt(1)}, {broadcaster.IdAt(2)}",
            $"{epoch}-01", // a leading zero: one id, one spelling
            $"{epoch}-00",
            $"{epoch}-99999999999999999999", // over 64 bits
            $"{epoch}-9223372036854775808", // long.MaxValue + 1
            $"{epoch}-+1",
            $"{epoch}--1",
            $"{epoch}-1 ",
            $" {epoch}-1",
            $"{epoch}-",
            $"{epoch.ToUpperInvariant()}-1",
            $"{epoch}1",
            epoch,
        ];
        var expectedLast = 3L;
        foreach (var lastEventId in malformed)
        {
            await AssertUnknownThenLiveAsync(broadcaster, lastEventId, expectedLast++);
        }
    }

    [Fact]
    public async Task An_id_of_another_broadcaster_is_reported_as_unknown_then_live()
    {
        // Another server, or an earlier run of this process: its offsets overlap this log's, and a
        // resume from them would replay unrelated events; the epoch tells them apart.
        await using var other = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(other, 2);
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 3);

        Assert.NotEqual(EventIdTesting.EpochOf(other), EventIdTesting.EpochOf(broadcaster));
        await AssertUnknownThenLiveAsync(broadcaster, other.GetStatistics().LastEventId, lastOffset: 3);
        await AssertUnknownThenLiveAsync(broadcaster, other.IdAt(0), lastOffset: 4);

        // A client of this log resumes as usual.
        using var fromThisLog = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(3) });
        var resumed = await fromThisLog.ReadAsync(1 + 2);
        Assert.Equal(broadcaster.IdAt(3), resumed[0].Id);
        Assert.Equal([4L, 5], resumed.Skip(1).Select(EventIdTesting.OffsetOf));
    }

    [Fact]
    public async Task Broadcasters_created_at_the_same_moment_refuse_each_others_ids()
    {
        // Two servers started in the same millisecond: their epochs are random, not clock-based,
        // so each refuses the other's ids even at the same offsets.
        var options = new GraphEventsOptions();
        await using var first = GraphEventBroadcaster.Create(options);
        await using var second = GraphEventBroadcaster.Create(options);
        await PublishAndSettleAsync(first, 3);
        await PublishAndSettleAsync(second, 3);

        Assert.NotEqual(first.GetStatistics().LastEventId, second.GetStatistics().LastEventId);
        await AssertUnknownThenLiveAsync(second, first.IdAt(1), lastOffset: 3);
        await AssertUnknownThenLiveAsync(first, second.IdAt(1), lastOffset: 3);
        await AssertUnknownThenLiveAsync(first, second.IdAt(0), lastOffset: 4);
    }

    [Fact]
    public async Task Many_broadcasters_created_at_once_each_have_their_own_epoch()
    {
        var broadcasters = Enumerable.Range(0, 200).Select(_ => GraphEventBroadcaster.Create()).ToList();
        try
        {
            Assert.Equal(broadcasters.Count, broadcasters.Select(EventIdTesting.EpochOf).Distinct(StringComparer.Ordinal).Count());
        }
        finally
        {
            foreach (var broadcaster in broadcasters)
            {
                await broadcaster.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Resume_at_the_newest_id_replays_nothing_and_the_filter_applies_to_replay()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await PublishAndSettleAsync(broadcaster, 2);
        await broadcaster.PublishAsync(new GraphSyncedEvent(1, 1, 1, SampleEvents.Timestamp), TestContext.Current.CancellationToken);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.LastOffset() == 3, "three events");

        using var upToDate = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(3) });
        using var filtered = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0), EventTypes = [GraphEventTypes.GraphSynced] });

        Assert.Equal(broadcaster.IdAt(3), (await upToDate.ReadAsync(1))[0].Id);
        Assert.False(upToDate.TryRead(out _));
        var frames = await filtered.ReadAsync(2);
        Assert.Equal(broadcaster.IdAt(0), frames[0].Id);
        Assert.Equal(GraphEventTypes.GraphSynced, frames[1].EventType);
        Assert.Equal(broadcaster.IdAt(3), frames[1].Id);
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
            subscriptions.Add(broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(Random.Shared.Next(0, 100)) }));
            await Task.Yield();
        }

        await publisher;
        // Delivered, not only numbered: a drain's last id is issued before its frames are offered.
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsPublished == 5_000, "all events delivered");
        foreach (var subscription in subscriptions)
        {
            var frames = new List<GraphEventFrame>();
            while (subscription.TryRead(out var frame))
            {
                frames.Add(frame);
            }

            var start = EventIdTesting.OffsetOf(frames[0]);
            var ids = frames.Where(f => f.EventType == GraphEventTypes.EdgeCreated).Select(EventIdTesting.OffsetOf).ToList();
            Assert.Equal(Enumerable.Range((int)start + 1, 5_000 - (int)start).Select(i => (long)i), ids);
            subscription.Dispose();
        }
    }

    /// <summary>
    /// A resume from <paramref name="lastEventId"/> must not replay anything: connected (with the
    /// last id of the log), events_lost(unknown_last_event_id, count unknown, no id), then the next
    /// live event, which this publishes.
    /// </summary>
    private static async Task AssertUnknownThenLiveAsync(IGraphEventBroadcaster broadcaster, string? lastEventId, long lastOffset)
    {
        Assert.NotNull(lastEventId);
        Assert.Equal(lastOffset, broadcaster.LastOffset());
        using var subscription = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = lastEventId });
        var start = await subscription.ReadAsync(2);
        Assert.IsType<ConnectedEvent>(start[0].Event);
        Assert.Equal(broadcaster.IdAt(lastOffset), start[0].Id);
        var lost = Assert.IsType<EventsLostEvent>(start[1].Event);
        Assert.Equal(EventsLostReasons.UnknownLastEventId, lost.Reason);
        Assert.Null(lost.LostCount);
        Assert.Null(start[1].Id);
        Assert.False(subscription.TryRead(out _));
        Assert.Equal(0, subscription.FramesLost);

        await broadcaster.PublishAsync(SampleEvents.Edge(1_000), TestContext.Current.CancellationToken);
        var live = Assert.Single(await subscription.ReadAsync(1));
        Assert.IsType<EdgeCreatedEvent>(live.Event);
        Assert.Equal(broadcaster.IdAt(lastOffset + 1), live.Id);
        Assert.False(subscription.TryRead(out _));
    }

    private static async Task PublishAndSettleAsync(IGraphEventBroadcaster broadcaster, int count)
    {
        var before = broadcaster.LastOffset();
        for (var i = 0; i < count; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.LastOffset() == before + count, $"{count} events pumped");
    }
}
