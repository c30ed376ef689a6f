using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>
/// How readers are woken: once per drain with the whole drain ready, by work items that several
/// readers share, and never so that one reader's continuation holds up another's.
/// </summary>
public sealed class WakeUpTests
{
    [Fact]
    public async Task A_waiting_reader_is_woken_once_a_block_of_events_is_all_in_its_buffer()
    {
        // No heartbeat may come between: it would wake the reader before the block.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { HeartbeatInterval = TimeSpan.FromHours(1) });
        using var subscription = broadcaster.Subscribe();
        Assert.True(subscription.TryRead(out _));
        var wait = subscription.WaitToReadAsync(TestContext.Current.CancellationToken).AsTask();
        Assert.False(wait.IsCompleted);

        // One commit is one drain: the reader must find all of it when it wakes, never a part
        // with the rest still being added (a stream writer would then write it in pieces).
        var events = Enumerable.Range(0, 40).Select(i => (GraphEvent)SampleEvents.Edge(i)).ToList();
        await ((Broadcaster)broadcaster).CommitAsync(events, null, TestContext.Current.CancellationToken);

        Assert.True(await wait.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken));
        Assert.Equal(40, subscription.Count);
        var frames = await subscription.ReadAsync(40);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), frames.Select(EventIdTesting.OffsetOf));
    }

    [Fact]
    public async Task A_reader_that_blocks_in_its_continuation_holds_up_none_of_the_others()
    {
        const int Others = 50;
        const int Events = 20;
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var release = new ManualResetEventSlim();
        using var blocked = broadcaster.Subscribe();
        var token = TestContext.Current.CancellationToken;
        var others = Enumerable.Range(0, Others).Select(_ => broadcaster.Subscribe()).ToList();

        // Every reader waits before the first event, so that each is woken by a work item and
        // runs on it; the blocked one comes first in the broadcast, and blocks until released.
        Assert.True(blocked.TryRead(out _));
        var first = blocked.WaitToReadAsync(token);
        Assert.False(first.IsCompleted);
        var blockedRead = 0;
        var blocking = BlockAsync();
        var reads = others.Select(s =>
        {
            Assert.True(s.TryRead(out _));
            var wait = s.WaitToReadAsync(token);
            Assert.False(wait.IsCompleted);
            return ReadAfterAsync(s, wait);
        }).ToList();

        for (var i = 0; i < Events; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), token);
        }

        // Every other reader gets every event while the blocked one still holds its work item.
        foreach (var read in reads)
        {
            var frames = await read;
            Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), frames.Select(EventIdTesting.OffsetOf));
        }

        Assert.False(blocking.IsCompleted);
        Assert.InRange(Volatile.Read(ref blockedRead), 1, Events);
        release.Set();
        blocked.Dispose();
        await blocking.WaitAsync(SubscriptionReading.Deadline, token);
        others.ForEach(s => s.Dispose());

        async Task<List<GraphEventFrame>> ReadAfterAsync(GraphEventSubscription subscription, ValueTask<bool> wait)
        {
            Assert.True(await wait.ConfigureAwait(false));
            return await subscription.ReadAsync(Events).ConfigureAwait(false);
        }

        async Task BlockAsync()
        {
            var more = await first.ConfigureAwait(false);
            while (more)
            {
                while (blocked.TryRead(out _))
                {
                    Interlocked.Increment(ref blockedRead);
                }

                release.Wait(SubscriptionReading.Deadline, token);
                more = await blocked.WaitToReadAsync(token).ConfigureAwait(false);
            }
        }
    }

    [Fact]
    public async Task Readers_woken_together_each_get_every_event_in_order_through_drains_large_and_small()
    {
        const int Subscribers = 300;
        const int Events = 1_500;
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = Subscribers, SubscriberBufferCapacity = Events });
        var subscriptions = Enumerable.Range(0, Subscribers).Select(_ => broadcaster.Subscribe()).ToList();
        var reads = subscriptions.Select(s => Task.Run(() => s.ReadAsync(1 + Events))).ToList();

        // Blocks of various sizes and single events, so drains of one and of many frames alternate;
        // the first is larger than a slice (a quarter of the buffer), so it is offered in several.
        var sent = 0;
        var size = 1_000;
        while (sent < Events)
        {
            var block = Enumerable.Range(sent, Math.Min(size, Events - sent)).Select(i => (GraphEvent)SampleEvents.Edge(i)).ToList();
            await ((Broadcaster)broadcaster).CommitAsync(block, null, TestContext.Current.CancellationToken);
            sent += block.Count;
            size = size % 37 + 1;
        }

        foreach (var read in reads)
        {
            var frames = await read;
            Assert.IsType<ConnectedEvent>(frames[0].Event);
            Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), frames.Skip(1).Select(EventIdTesting.OffsetOf));
        }

        Assert.Equal((long)Subscribers * Events, broadcaster.GetStatistics().FramesDelivered);
        subscriptions.ForEach(s => s.Dispose());
    }
}
