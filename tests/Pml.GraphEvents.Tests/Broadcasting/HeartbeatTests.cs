using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class HeartbeatTests
{
    [Fact]
    public async Task A_heartbeat_goes_to_every_subscriber_each_interval_with_no_id()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { HeartbeatInterval = TimeSpan.FromSeconds(30) }, time);
        using var a = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [GraphEventTypes.EdgeCreated] });
        using var b = broadcaster.Subscribe();
        await a.ReadAsync(1);
        await b.ReadAsync(1);

        time.Advance(TimeSpan.FromSeconds(29));
        time.Advance(TimeSpan.FromSeconds(1));
        var first = (await a.ReadAsync(1))[0];
        time.Advance(TimeSpan.FromSeconds(30));
        var second = (await a.ReadAsync(1))[0];

        var beat = Assert.IsType<HeartbeatEvent>(first.Event);
        Assert.Null(first.Id);
        Assert.Equal(2, beat.ConnectedClients);
        Assert.Equal(30, beat.UptimeSeconds);
        Assert.Equal(SampleEvents.Timestamp.AddSeconds(30), beat.Timestamp);

        // Exactly one per interval: the next one is the 60 s beat, not a second one at 30 s.
        Assert.Equal(60, Assert.IsType<HeartbeatEvent>(second.Event).UptimeSeconds);
        Assert.Same(first, (await b.ReadAsync(1))[0]);
        Assert.Null(broadcaster.GetStatistics().LastEventId);
    }

    [Fact]
    public async Task No_subscriber_no_heartbeat()
    {
        var time = new FakeTimeProvider();
        await using var broadcaster = GraphEventBroadcaster.Create(timeProvider: time);

        time.Advance(TimeSpan.FromMinutes(5));
        await broadcaster.PublishAsync(SampleEvents.Edge(1), TestContext.Current.CancellationToken);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsPublished == 1, "the edge pumped");

        Assert.Equal(1, broadcaster.GetStatistics().EventsPublished);
    }
}
