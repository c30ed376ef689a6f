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
            return Enumerable.Range(0, 25).Select(_ => broadcaster.Subscribe()).ToList();
        })));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(200, all.Count);
        Assert.Equal(100, all.Count(r => r.IsAccepted));
        Assert.All(all.Where(r => !r.IsAccepted), r => Assert.Equal(100, r.MaxSubscribers));
        Assert.Equal(100, broadcaster.SubscriberCount);
        Assert.Equal(100, broadcaster.GetStatistics().SubscribesRefused);

        // Leaving frees a slot at once.
        all.First(r => r.IsAccepted).Subscription!.Dispose();
        Assert.True(broadcaster.Subscribe().IsAccepted);
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
                var subscription = broadcaster.Subscribe().Subscription!;
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
