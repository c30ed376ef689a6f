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
    public async Task Connected_clients_add_the_other_instances_subscribers_while_the_limit_stays_this_instances()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var created = GraphEventBroadcaster.Create(new GraphEventsOptions { HeartbeatInterval = TimeSpan.FromSeconds(30), MaxSubscribers = 2 }, time);
        var broadcaster = (Broadcaster)created;

        // What a backplane's presence loop sets: the subscribers of the instances that share it.
        broadcaster.OtherInstancesClients = 40;
        using var a = broadcaster.Subscribe();
        var connected = Assert.IsType<ConnectedEvent>((await a.ReadAsync(1))[0].Event);
        Assert.Equal(41, connected.ConnectedClients);

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(41, Assert.IsType<HeartbeatEvent>((await a.ReadAsync(1))[0].Event).ConnectedClients);

        broadcaster.OtherInstancesClients = 7;
        using var b = broadcaster.Subscribe();
        Assert.Equal(9, Assert.IsType<ConnectedEvent>((await b.ReadAsync(1))[0].Event).ConnectedClients);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(9, Assert.IsType<HeartbeatEvent>((await a.ReadAsync(1))[0].Event).ConnectedClients);

        // The limit counts this instance's subscribers only: two here, whatever the others have.
        Assert.Equal(2, broadcaster.SubscriberCount);
        Assert.False(broadcaster.TrySubscribe(out _));
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
