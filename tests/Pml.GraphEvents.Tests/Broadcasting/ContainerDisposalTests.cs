using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>
/// The broadcaster offers only <c>DisposeAsync</c> publicly, yet a real <see cref="ServiceProvider"/>
/// must dispose it either way: its synchronous <c>Dispose</c> throws for a singleton that is only
/// <see cref="IAsyncDisposable"/>.
/// </summary>
public sealed class ContainerDisposalTests
{
    [Fact]
    public void The_public_broadcaster_has_no_synchronous_Dispose()
    {
        Assert.False(typeof(IDisposable).IsAssignableFrom(typeof(IGraphEventBroadcaster)));
        Assert.True(typeof(IAsyncDisposable).IsAssignableFrom(typeof(IGraphEventBroadcaster)));
    }

    [Fact]
    public async Task A_provider_disposed_asynchronously_delivers_what_was_accepted_then_ends_every_subscription()
    {
        var provider = new ServiceCollection().AddGraphEvents().Services.BuildServiceProvider();
        var (broadcaster, subscriptions) = SubscribeAndPublish(provider);

        await provider.DisposeAsync();

        await AssertDisposedAsync(broadcaster, subscriptions);
    }

    [Fact]
    public async Task A_provider_disposed_synchronously_does_the_same_without_needing_the_callers_context()
    {
        var provider = new ServiceCollection().AddGraphEvents().Services.BuildServiceProvider();
        var (broadcaster, subscriptions) = SubscribeAndPublish(provider);

        // On a thread whose context never runs what is posted to it (a blocked UI thread): had the
        // disposal needed that context to finish, Dispose would never return.
        Exception? failure = null;
        var disposer = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(new NeverRunsContext());
            try
            {
                provider.Dispose();
            }
#pragma warning disable CA1031 // Reported on the test's thread below.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                failure = exception;
            }
        });
        disposer.Start();

        Assert.True(disposer.Join(SubscriptionReading.Deadline), "ServiceProvider.Dispose did not return.");
        Assert.Null(failure);
        await AssertDisposedAsync(broadcaster, subscriptions);
    }

    private static (IGraphEventBroadcaster Broadcaster, List<GraphEventSubscription> Subscriptions) SubscribeAndPublish(ServiceProvider provider)
    {
        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();

        // Resolved through every interface it is registered as: the container tracks it once each,
        // and disposing it more than once must be harmless.
        Assert.Same(broadcaster, provider.GetRequiredService<IGraphEventPublisher>());
        Assert.Same(broadcaster, provider.GetRequiredService<IGraphEventSubscriber>());
        var subscriptions = Enumerable.Range(0, 3).Select(_ => broadcaster.Subscribe()).ToList();
        for (var i = 0; i < 100; i++)
        {
            Assert.True(broadcaster.TryPublish(SampleEvents.Edge(i)));
        }

        return (broadcaster, subscriptions);
    }

    private static async Task AssertDisposedAsync(IGraphEventBroadcaster broadcaster, List<GraphEventSubscription> subscriptions)
    {
        foreach (var subscription in subscriptions)
        {
            Assert.Equal(101, (await subscription.ReadToEndAsync()).Count);
            Assert.Equal(SubscriptionEndReason.BroadcasterDisposed, subscription.EndReason);
        }

        Assert.Equal(0, broadcaster.SubscriberCount);
        Assert.Throws<ObjectDisposedException>(() => broadcaster.TrySubscribe(out _));
    }

    private sealed class NeverRunsContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state)
        {
        }

        public override void Send(SendOrPostCallback d, object? state) => throw new InvalidOperationException("Nothing may run synchronously on this context.");

        public override SynchronizationContext CreateCopy() => this;
    }
}
