using System.Threading.Channels;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>A subscription is a <see cref="ChannelReader{T}"/>, and behaves as .NET's own channels do.</summary>
public sealed class ChannelReaderTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadAsync_returns_connected_then_each_event_then_throws_ChannelClosedException_after_the_end()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();

        Assert.IsType<ConnectedEvent>((await subscription.ReadAsync(Token)).Event);

        // Waits for the event: nothing is there when the read starts.
        var pending = subscription.ReadAsync(Token);
        Assert.False(pending.IsCompleted);
        await broadcaster.PublishAsync(SampleEvents.Edge(1), Token);
        Assert.Equal(broadcaster.IdAt(1), (await pending.AsTask().WaitAsync(SubscriptionReading.Deadline, Token)).Id);

        await broadcaster.PublishAsync(SampleEvents.Edge(2), Token);
        await SubscriptionReading.EventuallyAsync(() => subscription.Count == 1, "the second event in the buffer");
        subscription.Dispose();

        // Ended with a frame still held: it is read first, then the end is reported as a channel reports it.
        Assert.Equal(broadcaster.IdAt(2), (await subscription.ReadAsync(Token)).Id);
        await Assert.ThrowsAsync<ChannelClosedException>(async () => await subscription.ReadAsync(Token));
        Assert.False(await subscription.WaitToReadAsync(Token));
    }

    [Fact]
    public async Task ReadAsync_that_is_cancelled_while_it_waits_throws_OperationCanceledException_and_the_next_read_works()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        Assert.True(subscription.TryRead(out _));

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var pending = subscription.ReadAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

        await broadcaster.PublishAsync(SampleEvents.Edge(1), Token);
        Assert.Equal(broadcaster.IdAt(1), (await subscription.ReadAsync(Token).AsTask().WaitAsync(SubscriptionReading.Deadline, Token)).Id);
    }

    [Fact]
    public async Task Completion_completes_only_once_the_frames_held_at_the_end_were_read()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        var completion = subscription.Completion;
        await broadcaster.PublishAsync(SampleEvents.Edge(1), Token);
        await SubscriptionReading.EventuallyAsync(() => subscription.Count == 2, "connected and the event in the buffer");

        subscription.Dispose();
        Assert.False(completion.IsCompleted);
        Assert.True(subscription.TryRead(out var connected));
        Assert.IsType<ConnectedEvent>(connected.Event);
        Assert.False(completion.IsCompleted);

        // The last frame: completion follows that read, not a later call.
        Assert.True(subscription.TryRead(out var last));
        Assert.Equal(broadcaster.IdAt(1), last.Id);
        await completion.WaitAsync(SubscriptionReading.Deadline, Token);
        Assert.Equal(TaskStatus.RanToCompletion, completion.Status);
        Assert.Same(completion, subscription.Completion);
        Assert.Equal(0, subscription.Count);
    }

    [Fact]
    public async Task Completion_completes_without_a_fault_for_every_end_reason()
    {
        // Lagging: a buffer of one frame, two events.
        await using var small = GraphEventBroadcaster.Create(new GraphEventsOptions { SubscriberBufferCapacity = 1 });
        var lagging = small.Subscribe();
        await small.PublishAsync(SampleEvents.Edge(1), Token);
        await small.PublishAsync(SampleEvents.Edge(2), Token);
        await SubscriptionReading.EventuallyAsync(() => lagging.EndReason == SubscriptionEndReason.Lagging, "the subscription lagging");
        Assert.Equal([0L, 1L], (await lagging.ReadToEndAsync()).Select(EventIdTesting.OffsetOf));
        await lagging.Completion.WaitAsync(SubscriptionReading.Deadline, Token);

        // The broadcaster disposed, nothing left unread: asked for after the end, it is complete at once.
        var broadcaster = GraphEventBroadcaster.Create();
        var orphan = broadcaster.Subscribe();
        Assert.True(orphan.TryRead(out _));
        await broadcaster.DisposeAsync();
        Assert.Equal(SubscriptionEndReason.BroadcasterDisposed, orphan.EndReason);
        Assert.Equal(TaskStatus.RanToCompletion, orphan.Completion.Status);

        // Disposed by its owner.
        await using var third = GraphEventBroadcaster.Create();
        var disposed = third.Subscribe();
        Assert.True(disposed.TryRead(out _));
        var completion = disposed.Completion;
        Assert.False(completion.IsCompleted);
        disposed.Dispose();
        await completion.WaitAsync(SubscriptionReading.Deadline, Token);
        Assert.Equal(TaskStatus.RanToCompletion, completion.Status);
    }

    [Fact]
    public async Task Count_is_what_TryRead_can_take_now()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        await broadcaster.PublishAsync(SampleEvents.Edge(1), Token);
        await broadcaster.PublishAsync(Metrics(), Token);
        await broadcaster.PublishAsync(SampleEvents.Edge(3), Token);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.LastOffset() == 3, "three events broadcast");

        // connected + a replay of three events of which the filter keeps one.
        using var subscription = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0), EventTypes = [GraphEventTypes.MetricsUpdated] });
        Assert.True(subscription.CanCount);
        Assert.Equal(2, subscription.Count);

        await broadcaster.PublishAsync(Metrics(), Token);
        await broadcaster.PublishAsync(SampleEvents.Edge(5), Token);
        await SubscriptionReading.EventuallyAsync(() => subscription.Count == 3, "the live event the filter keeps");

        var counted = subscription.Count;
        var read = 0;
        while (subscription.TryRead(out _))
        {
            read++;
            Assert.Equal(counted - read, subscription.Count);
        }

        Assert.Equal(3, read);
    }

    [Fact]
    public async Task Count_includes_the_loss_notice_of_the_drop_oldest_policy()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { SubscriberBufferCapacity = 2, SlowSubscriberPolicy = SlowSubscriberPolicy.DropOldest });
        using var subscription = broadcaster.Subscribe();
        Assert.True(subscription.TryRead(out _));
        for (var i = 1; i <= 5; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), Token);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDropped == 3, "three frames dropped");

        // The notice, then the two newest frames.
        Assert.Equal(3, subscription.Count);
        var frames = await subscription.ReadAsync(3);
        Assert.Equal(3, Assert.IsType<EventsLostEvent>(frames[0].Event).LostCount);
        Assert.Equal(0, subscription.Count);
    }

    [Fact]
    public async Task WaitToReadAsync_true_means_TryRead_returns_a_frame_even_when_the_filter_skips_the_whole_replay()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        for (var i = 1; i <= 3; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), Token);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.LastOffset() == 3, "three events broadcast");
        using var subscription = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0), EventTypes = [GraphEventTypes.MetricsUpdated] });
        Assert.True(subscription.TryRead(out var connected));
        Assert.IsType<ConnectedEvent>(connected.Event);

        // Three replayed edge_created frames, all filtered out: nothing to read, so the wait waits.
        var wait = subscription.WaitToReadAsync(Token);
        Assert.False(wait.IsCompleted);
        Assert.False(subscription.TryRead(out _));

        await broadcaster.PublishAsync(Metrics(), Token);
        Assert.True(await wait.AsTask().WaitAsync(SubscriptionReading.Deadline, Token));
        Assert.True(subscription.TryRead(out var metrics));
        Assert.IsType<MetricsUpdatedEvent>(metrics.Event);
    }

    [Fact]
    public async Task WaitToReadAsync_does_not_allocate_when_it_waits()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        Assert.True(subscription.TryRead(out _));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);

        for (var round = 1; round <= 3; round++)
        {
            // Round 1 warms the path up; the others are measured, with a cancellable token.
            var before = GC.GetAllocatedBytesForCurrentThread();
            var wait = subscription.WaitToReadAsync(cancel.Token);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.False(wait.IsCompleted);
            if (round > 1)
            {
                Assert.Equal(0, allocated);
            }

            await broadcaster.PublishAsync(SampleEvents.Edge(round), Token);
            Assert.True(await wait);
            Assert.True(subscription.TryRead(out var frame));
            Assert.Equal(broadcaster.IdAt(round), frame.Id);
        }
    }

    [Fact]
    public async Task ReadAllAsync_ends_with_the_subscription_and_throws_when_cancelled_while_it_waits()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        await broadcaster.PublishAsync(SampleEvents.Edge(1), Token);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var ids = new System.Collections.Concurrent.ConcurrentQueue<long>();
        var reading = Task.Run(async () =>
        {
            await foreach (var frame in subscription.ReadAllAsync(cancel.Token))
            {
                ids.Enqueue(EventIdTesting.OffsetOf(frame));
            }
        }, Token);

        // Both frames read: the enumeration now waits, and the cancellation ends that wait.
        await SubscriptionReading.EventuallyAsync(() => ids.Count == 2, "connected and the event read");
        Assert.False(reading.IsCompleted);
        cancel.Cancel();
        var exception = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(SubscriptionReading.Deadline, Token));
        Assert.Equal(cancel.Token, exception.CancellationToken);
        Assert.Equal([0L, 1L], ids);

        // Not ended by the cancellation: it is still live, and ReadAllAsync ends when it ends.
        Assert.Equal(SubscriptionEndReason.None, subscription.EndReason);
        await broadcaster.PublishAsync(SampleEvents.Edge(2), Token);
        await SubscriptionReading.EventuallyAsync(() => subscription.Count == 1, "the second event");
        subscription.Dispose();
        Assert.Equal([2L], (await subscription.ReadToEndAsync()).Select(EventIdTesting.OffsetOf));
    }

    [Fact]
    public async Task A_subscription_works_where_any_ChannelReader_is_taken()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        for (var i = 1; i <= 3; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), Token);
        }

        await SubscriptionReading.EventuallyAsync(() => subscription.Count == 4, "connected and three events");
        subscription.Dispose();

        // Code written for channels, which knows nothing of subscriptions.
        var copy = Channel.CreateUnbounded<GraphEventFrame>();
        var copied = await CopyAsync(subscription, copy.Writer);
        Assert.Equal(4, copied);
        Assert.Equal([0L, 1L, 2L, 3L], await copy.Reader.ReadAllAsync(Token).Select(EventIdTesting.OffsetOf).ToListAsync(Token));

        // And the LINQ over IAsyncEnumerable of the base library, on a live one.
        using var live = broadcaster.Subscribe();
        await broadcaster.PublishAsync(SampleEvents.Edge(4), Token);
        var firstTwo = await live.ReadAllAsync(Token).Take(2).ToListAsync(Token);
        Assert.Equal([GraphEventTypes.Connected, GraphEventTypes.EdgeCreated], firstTwo.Select(f => f.EventType));
    }

    private static MetricsUpdatedEvent Metrics() => new(1, 2, 0.5, [new ToolScore("a", 1)], 1, SampleEvents.Timestamp);

    private static async Task<int> CopyAsync<T>(ChannelReader<T> source, ChannelWriter<T> target)
    {
        var count = 0;
        while (await source.WaitToReadAsync(Token))
        {
            while (source.TryRead(out var item))
            {
                await target.WriteAsync(item, Token);
                count++;
            }
        }

        await source.Completion;
        target.Complete();
        return count;
    }
}
