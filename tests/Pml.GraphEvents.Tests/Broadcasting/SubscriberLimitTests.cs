using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class SubscriberLimitTests
{
    [Fact]
    public async Task Two_hundred_concurrent_subscribes_at_limit_100_admit_exactly_100()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = 100 });
        using var start = new Barrier(8);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            return Enumerable.Range(0, 25).Select(_ => broadcaster.TrySubscribe(out var subscription) ? subscription : null).ToList();
        })));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(200, all.Count);
        Assert.Equal(100, all.Count(s => s is not null));
        Assert.Equal(100, broadcaster.SubscriberCount);
        Assert.Equal(100, broadcaster.GetStatistics().SubscribesRefused);

        // Leaving frees a slot at once.
        all.First(s => s is not null)!.Dispose();
        Assert.True(broadcaster.TrySubscribe(out var again));
        again.Dispose();
    }

    [Fact]
    public async Task TrySubscribe_at_the_limit_returns_false_without_allocating()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = 2 });
        Assert.Equal(2, broadcaster.MaxSubscribers);
        Assert.True(broadcaster.TrySubscribe(out var first));
        Assert.True(broadcaster.TrySubscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0) }, out var second));
        using (first)
        using (second)
        {
            // Once to compile the path, then measured: a refusal allocates nothing, no subscription,
            // no queue, no result object, so a stampede at the limit costs no garbage.
            Assert.False(broadcaster.TrySubscribe(out var refused));
            Assert.Null(refused);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var accepted = broadcaster.TrySubscribe(out refused);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.False(accepted);
            Assert.Null(refused);
            Assert.Equal(0, allocated);
            Assert.False(broadcaster.TrySubscribe(null, out refused));
            Assert.Equal(2, broadcaster.SubscriberCount);
            Assert.Equal(3, broadcaster.GetStatistics().SubscribesRefused);
        }

        Assert.True(broadcaster.TrySubscribe(out var afterLeaving));
        afterLeaving.Dispose();
    }

    [Fact]
    public async Task Subscribe_at_the_limit_throws_the_limit_exception_carrying_the_limit()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = 3 });
        var live = Enumerable.Range(0, 3).Select(_ => broadcaster.Subscribe()).ToList();

        var refused = Assert.Throws<GraphEventSubscriberLimitException>(() => broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0) }));
        Assert.IsAssignableFrom<InvalidOperationException>(refused);
        Assert.Equal(3, refused.MaxSubscribers);
        Assert.Contains("GraphEvents:MaxSubscribers", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, broadcaster.SubscriberCount);
        Assert.Equal(1, broadcaster.GetStatistics().SubscribesRefused);

        live[0].Dispose();
        using var next = broadcaster.Subscribe();
        Assert.Equal(GraphEventTypes.Connected, (await next.ReadAsync(1))[0].EventType);
        live.Skip(1).ToList().ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Count_returns_to_zero_after_ten_thousand_subscribe_dispose_cycles()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = 1_000 });
        using var publishing = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; !publishing.IsCancellationRequested; i++)
            {
                await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
            }
        }, TestContext.Current.CancellationToken);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2_500; i++)
            {
                var subscription = broadcaster.Subscribe();
                subscription.TryRead(out GraphEventFrame? _);
                subscription.Dispose();
                subscription.Dispose();
                Assert.NotEqual(SubscriptionEndReason.None, subscription.EndReason);
            }
        })));

        await publishing.CancelAsync();
        await publisher;
        Assert.Equal(0, broadcaster.SubscriberCount);
    }
}
