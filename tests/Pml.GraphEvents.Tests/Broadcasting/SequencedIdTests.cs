using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>Ids given by a backplane: increasing, with gaps, starting where the shared log was.</summary>
public sealed class SequencedIdTests
{
    [Fact]
    public async Task Events_keep_the_ids_they_were_given_and_resume_finds_them_by_search()
    {
        await using var broadcaster = new Broadcaster(new GraphEventsOptions { ReplayCapacity = 4 }, TimeProvider.System);
        var ownEpoch = broadcaster.Epoch;
        var sharedEpoch = GraphEventId.NewEpoch();
        broadcaster.StartSequenceAfter(sharedEpoch, 1_000);
        Assert.Equal(sharedEpoch, broadcaster.Epoch);
        long[] ids = [1_010, 1_020, 1_030, 1_040, 1_050, 1_060];
        foreach (var id in ids)
        {
            await broadcaster.WriteSequencedAsync(id, SampleEvents.Edge((int)id), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.LastOffset() == 1_060, "six events");
        Assert.Equal($"{sharedEpoch}-1060", broadcaster.GetStatistics().LastEventId);

        using var between = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(1_035) });
        var frames = await between.ReadAsync(1 + 3);
        Assert.Equal($"{sharedEpoch}-1035", frames[0].Id);
        Assert.Equal([1_040L, 1_050, 1_060], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.All(frames, f => Assert.StartsWith(sharedEpoch + "-", f.Id, StringComparison.Ordinal));

        // 1,020 was evicted (the ring holds 1,030 to 1,060): older than the window, reported.
        using var old = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(1_010) });
        var oldFrames = await old.ReadAsync(2);
        Assert.Equal(GraphEventTypes.EventsLost, oldFrames[1].EventType);

        // The shared stream's epoch replaced the broadcaster's own: an id under that one is not of this log.
        using var ownLog = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = GraphEventId.Format(ownEpoch, 1_050) });
        var ownFrames = await ownLog.ReadAsync(2);
        Assert.Equal(broadcaster.IdAt(1_060), ownFrames[0].Id);
        Assert.Equal(EventsLostReasons.UnknownLastEventId, Assert.IsType<EventsLostEvent>(ownFrames[1].Event).Reason);
        Assert.False(ownLog.TryRead(out _));
    }

    [Fact]
    public async Task An_id_already_broadcast_is_not_broadcast_again()
    {
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System);
        using var subscription = broadcaster.Subscribe();
        await broadcaster.WriteSequencedAsync(5, SampleEvents.Edge(1), TestContext.Current.CancellationToken);
        await broadcaster.WriteSequencedAsync(5, SampleEvents.Edge(2), TestContext.Current.CancellationToken);
        await broadcaster.WriteSequencedAsync(3, SampleEvents.Edge(3), TestContext.Current.CancellationToken);
        await broadcaster.WriteSequencedAsync(9, SampleEvents.Edge(4), TestContext.Current.CancellationToken);

        var frames = await subscription.ReadAsync(3);
        Assert.Equal([5L, 9], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.False(subscription.TryRead(out _));
    }

    [Fact]
    public async Task An_events_lost_notice_from_the_shared_log_is_broadcast_under_its_id_kept_for_replay_and_reaches_filtered_subscribers()
    {
        // What the Redis backplane sends after an outage that overflowed its buffer: a loss every
        // client must hear about, in the log's order, under the log's id.
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System);
        broadcaster.StartSequenceAfter(GraphEventId.NewEpoch(), 100);
        using var all = broadcaster.Subscribe();
        using var filtered = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [GraphEventTypes.MetricsUpdated] });

        var notice = new EventsLostEvent(EventsLostReasons.BufferOverflow, 1_970, SampleEvents.Timestamp);
        await broadcaster.WriteSequencedAsync(101, SampleEvents.Edge(1), Ct);
        await broadcaster.WriteSequencedAsync(105, notice, Ct);
        await broadcaster.WriteSequencedAsync(106, SampleEvents.Edge(2), Ct);

        var frames = await all.ReadAsync(4);
        Assert.Equal([101L, 105, 106], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.Equal(notice, frames[2].Event);
        Assert.Equal(SseFrameEncoder.Encode(new EventIdPrefix(broadcaster.Epoch), 105, notice), frames[2].Utf8Bytes.ToArray());

        // events_lost is a control type: a subscriber that filtered it out of nothing still gets it.
        var only = await filtered.ReadAsync(2);
        Assert.Equal(broadcaster.IdAt(105), only[1].Id);
        Assert.Equal(notice, only[1].Event);

        // Kept in the ring: a client that resumes from before it is told too.
        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(101) });
        var replay = await resumed.ReadAsync(3);
        Assert.Equal([105L, 106], replay.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.Equal(notice, replay[1].Event);
        Assert.Equal((3L, 0L), (broadcaster.GetStatistics().EventsPublished, broadcaster.GetStatistics().EventsFailed));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
