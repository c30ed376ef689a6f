using System.Reflection;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class StatisticsTests
{
    [Fact]
    public void Statistics_can_be_read_but_not_made()
    {
        var type = typeof(GraphEventBroadcasterStatistics);

        // No public constructor (a struct's implicit zero value aside) and no public setter or
        // init accessor: only the broadcaster creates them, so a with-expression cannot forge one.
        Assert.Empty(type.GetConstructors(BindingFlags.Public | BindingFlags.Instance));
        Assert.All(type.GetProperties(BindingFlags.Public | BindingFlags.Instance), p => Assert.Null(p.GetSetMethod(nonPublic: false)));
    }

    [Fact]
    public async Task Statistics_count_what_the_broadcaster_did()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = 1 });
        using var subscription = broadcaster.Subscribe();
        Assert.False(broadcaster.TrySubscribe(out _));
        await broadcaster.PublishAsync(SampleEvents.Edge(1), TestContext.Current.CancellationToken);
        await subscription.ReadAsync(2);

        var statistics = broadcaster.GetStatistics();
        Assert.Equal(1, statistics.SubscriberCount);
        Assert.Equal(broadcaster.IdAt(1), statistics.LastEventId);
        Assert.Equal(1, statistics.EventsPublished);
        Assert.Equal(1, statistics.FramesDelivered);
        Assert.Equal(1, statistics.SubscribesRefused);
    }
}
