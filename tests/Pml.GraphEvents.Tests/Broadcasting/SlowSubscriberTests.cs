using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>One stalled subscriber among 99 healthy ones: the healthy ones never notice it.</summary>
public sealed class SlowSubscriberTests
{
    private const int Capacity = 64;
    private const int Batch = 32;
    private const int Events = 1_024;

    [Fact]
    public async Task Default_policy_ends_the_stalled_subscriber_and_the_others_get_everything()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { SubscriberBufferCapacity = Capacity });
        var stalled = broadcaster.Subscribe();
        var healthy = await PublishWithHealthyReadersAsync(broadcaster, 99);

        AssertEveryEvent(healthy);
        Assert.Equal(SubscriptionEndReason.Lagging, stalled.EndReason);
        Assert.Equal(1, broadcaster.GetStatistics().SubscribersEvicted);
        Assert.Equal(0, broadcaster.SubscriberCount);

        // It still reads what it had buffered, contiguous from the start, and then ends: a
        // client resumes from the last id it saw instead of silently skipping a gap.
        var buffered = await stalled.ReadToEndAsync();
        Assert.IsType<ConnectedEvent>(buffered[0].Event);
        Assert.Equal(Enumerable.Range(1, Capacity).Select(i => (long)i), buffered.Skip(1).Select(EventIdTesting.OffsetOf));
    }

    [Fact]
    public async Task Several_stalled_subscribers_are_all_ended_and_the_rest_keep_everything()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { SubscriberBufferCapacity = Capacity, MaxSubscribers = 200 });
        var stalled = Enumerable.Range(0, 5).Select(_ => broadcaster.Subscribe()).ToList();
        var healthy = await PublishWithHealthyReadersAsync(broadcaster, 99);

        AssertEveryEvent(healthy);
        Assert.All(stalled, s => Assert.Equal(SubscriptionEndReason.Lagging, s.EndReason));
        Assert.Equal(5, broadcaster.GetStatistics().SubscribersEvicted);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task Drop_oldest_policy_keeps_the_newest_frames_and_reports_the_exact_loss()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            SubscriberBufferCapacity = Capacity,
            SlowSubscriberPolicy = SlowSubscriberPolicy.DropOldest,
        });
        using var stalled = broadcaster.Subscribe();
        var healthy = await PublishWithHealthyReadersAsync(broadcaster, 99);

        AssertEveryEvent(healthy);
        Assert.Equal(SubscriptionEndReason.None, stalled.EndReason);
        Assert.Equal(Events - Capacity, broadcaster.GetStatistics().FramesDropped);
        Assert.Equal(Events - Capacity, stalled.FramesLost);

        var frames = await stalled.ReadAsync(1 + 1 + Capacity);
        Assert.IsType<ConnectedEvent>(frames[0].Event);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal(EventsLostReasons.BufferOverflow, lost.Reason);
        Assert.Equal(Events - Capacity, lost.LostCount);
        Assert.Null(frames[1].Id);
        Assert.Equal(Enumerable.Range(Events - Capacity + 1, Capacity).Select(i => (long)i), frames.Skip(2).Select(EventIdTesting.OffsetOf));
        Assert.False(stalled.TryRead(out _));
    }

    /// <summary>
    /// Publishes in batches and lets the healthy readers drain each batch before the next, so they
    /// provably keep up; the stalled one never reads.
    /// </summary>
    private static async Task<List<List<GraphEventFrame>>> PublishWithHealthyReadersAsync(IGraphEventBroadcaster broadcaster, int count)
    {
        var healthy = Enumerable.Range(0, count).Select(_ => broadcaster.Subscribe()).ToList();
        var received = healthy.Select(_ => new List<GraphEventFrame>()).ToList();
        Assert.All(await Task.WhenAll(healthy.Select(s => s.ReadAsync(1))), f => Assert.IsType<ConnectedEvent>(f[0].Event));

        for (var sent = 0; sent < Events; sent += Batch)
        {
            for (var i = sent; i < sent + Batch; i++)
            {
                await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
            }

            var batches = await Task.WhenAll(healthy.Select(s => s.ReadAsync(Batch)));
            for (var i = 0; i < count; i++)
            {
                received[i].AddRange(batches[i]);
            }
        }

        healthy.ForEach(s => s.Dispose());
        return received;
    }

    private static void AssertEveryEvent(List<List<GraphEventFrame>> healthy)
    {
        Assert.Equal(99, healthy.Count);
        foreach (var frames in healthy)
        {
            Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), frames.Select(EventIdTesting.OffsetOf));
        }
    }
}
