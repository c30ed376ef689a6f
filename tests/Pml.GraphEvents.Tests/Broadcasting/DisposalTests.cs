using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class DisposalTests
{
    [Fact]
    public async Task Disposal_delivers_what_was_accepted_then_ends_every_subscription()
    {
        var broadcaster = GraphEventBroadcaster.Create();
        var subscriptions = Enumerable.Range(0, 3).Select(_ => broadcaster.Subscribe()).ToList();
        for (var i = 0; i < 100; i++)
        {
            Assert.True(broadcaster.TryPublish(SampleEvents.Edge(i)));
        }

        await broadcaster.DisposeAsync();

        foreach (var subscription in subscriptions)
        {
            var frames = await subscription.ReadToEndAsync();
            Assert.Equal(101, frames.Count);
            Assert.Equal(SubscriptionEndReason.BroadcasterDisposed, subscription.EndReason);
        }

        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task Publish_and_subscribe_after_disposal_throw()
    {
        var broadcaster = GraphEventBroadcaster.Create();
        await broadcaster.DisposeAsync();
        await broadcaster.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => broadcaster.TryPublish(SampleEvents.Edge(1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => broadcaster.PublishAsync(SampleEvents.Edge(1), TestContext.Current.CancellationToken).AsTask());
        Assert.Throws<ObjectDisposedException>(() => broadcaster.Subscribe());
        Assert.Throws<ObjectDisposedException>(() => broadcaster.TrySubscribe(out _));
    }

    [Fact]
    public async Task A_waiting_reader_is_woken_by_disposal()
    {
        var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        Assert.True(subscription.TryRead(out _));
        var wait = subscription.WaitToReadAsync(TestContext.Current.CancellationToken).AsTask();

        await broadcaster.DisposeAsync();

        Assert.False(await wait.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken));
    }
}
