using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

public sealed class DeliveryTests
{
    [Fact]
    public async Task First_frame_is_connected_with_the_client_count_then_events_in_order()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var first = broadcaster.Subscribe();
        using var second = broadcaster.Subscribe();

        for (var i = 0; i < 3; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        var frames = await second.ReadAsync(4);
        var connected = Assert.IsType<ConnectedEvent>(frames[0].Event);
        Assert.Equal(2, connected.ConnectedClients);
        Assert.Equal(second.ClientId, connected.ClientId);
        Assert.Equal(broadcaster.IdAt(0), frames[0].Id);
        Assert.Equal([1L, 2L, 3L], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.Equal(["tool:0", "tool:1", "tool:2"], frames.Skip(1).Select(f => ((EdgeCreatedEvent)f.Event).FromToolId));
    }

    [Fact]
    public async Task Every_subscriber_gets_the_same_encoded_frame_instance()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var a = broadcaster.Subscribe();
        using var b = broadcaster.Subscribe();

        Assert.True(broadcaster.TryPublish(SampleEvents.Edge(1)));

        var fromA = (await a.ReadAsync(2))[1];
        var fromB = (await b.ReadAsync(2))[1];
        Assert.Same(fromA, fromB);
    }

    [Fact]
    public async Task Hundred_subscribers_that_keep_up_get_all_ten_thousand_events_in_order()
    {
        const int Subscribers = 100;
        const int Events = 10_000;

        // "Keeping up" means staying within the buffer; on a busy 2-core machine 100 readers can
        // fall a few thousand frames behind one pump, so the buffer holds the whole run.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { SubscriberBufferCapacity = Events });
        var subscriptions = Enumerable.Range(0, Subscribers).Select(_ => broadcaster.Subscribe()).ToList();
        var readers = subscriptions.Select(s => Task.Run(() => s.ReadAsync(Events + 1))).ToList();

        for (var i = 0; i < Events; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        foreach (var reader in readers)
        {
            var frames = await reader;
            Assert.IsType<ConnectedEvent>(frames[0].Event);
            for (var i = 1; i <= Events; i++)
            {
                Assert.Equal(broadcaster.IdAt(i), frames[i].Id);
            }
        }

        var stats = broadcaster.GetStatistics();
        Assert.Equal(0, stats.SubscribersEvicted);
        Assert.Equal(0, stats.FramesDropped);
        Assert.Equal((long)Subscribers * Events, stats.FramesDelivered);
        subscriptions.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Filter_delivers_only_the_chosen_types_plus_control_frames()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var filtered = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [GraphEventTypes.MetricsUpdated] });

        await broadcaster.PublishAsync(SampleEvents.Edge(1), TestContext.Current.CancellationToken);
        await broadcaster.PublishAsync(new MetricsUpdatedEvent(1, 2, 0.5, [], 1, SampleEvents.Timestamp), TestContext.Current.CancellationToken);

        var frames = await filtered.ReadAsync(2);
        Assert.Equal([GraphEventTypes.Connected, GraphEventTypes.MetricsUpdated], frames.Select(f => f.EventType));
        Assert.Equal(broadcaster.IdAt(2), frames[1].Id);
    }

    [Fact]
    public async Task Unknown_filter_names_are_rejected_by_name()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();

        var error = Assert.Throws<ArgumentException>(() =>
            broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [GraphEventTypes.EdgeCreated, "edge_deleted", "EDGE_CREATED"] }));

        Assert.Contains("'edge_deleted'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'EDGE_CREATED'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task Per_subscriber_event_types_cannot_be_published()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();

        Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new ConnectedEvent("x", 1, SampleEvents.Timestamp)));
        Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new EventsLostEvent(EventsLostReasons.BufferOverflow, 1, SampleEvents.Timestamp)));
        Assert.Throws<ArgumentNullException>(() => broadcaster.TryPublish(null!));
    }

    [Fact]
    public async Task A_heartbeat_cannot_be_published_as_it_is_the_broadcasters_own()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        var forged = new HeartbeatEvent(1_000, 99_999, SampleEvents.Timestamp);

        var refused = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(forged));
        Assert.Equal("graphEvent", refused.ParamName);
        Assert.Contains("'heartbeat'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:HeartbeatInterval", refused.Message, StringComparison.Ordinal);
        var refusedAsync = await Assert.ThrowsAsync<ArgumentException>(() => broadcaster.PublishAsync(forged, TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("'heartbeat'", refusedAsync.Message, StringComparison.Ordinal);

        // Nothing reached the pump: the next event is id 1 and the subscriber sees no heartbeat.
        Assert.True(broadcaster.TryPublish(SampleEvents.Edge(1)));
        var frames = await subscription.ReadAsync(2);
        Assert.Equal([GraphEventTypes.Connected, GraphEventTypes.EdgeCreated], frames.Select(f => f.EventType));
        Assert.Equal(broadcaster.IdAt(1), frames[1].Id);
        Assert.Equal(0, broadcaster.GetStatistics().PublishesRejected);
    }

    [Fact]
    public async Task TryPublish_reports_a_full_ingress_without_waiting()
    {
        // A one-slot ingress filled in a tight loop: the pump cannot drain every slot before the next
        // TryPublish, so some are refused at once (never waited for) and every refusal is counted.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { IngressCapacity = 1 });
        var refused = 0;
        for (var i = 0; i < 100_000 && refused == 0; i++)
        {
            if (!broadcaster.TryPublish(SampleEvents.Edge(i)))
            {
                refused++;
            }
        }

        Assert.True(refused > 0, "One-slot ingress never refused an event in 100,000 tries.");
        Assert.Equal(refused, broadcaster.GetStatistics().PublishesRejected);
    }

    [Fact]
    public async Task A_pending_wait_is_cancelled_by_its_token()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        Assert.True(subscription.TryRead(out _));
        using var cts = new CancellationTokenSource();

        var wait = subscription.WaitToReadAsync(cts.Token).AsTask();
        Assert.False(wait.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);

        // The subscription still works after a cancelled wait.
        await broadcaster.PublishAsync(SampleEvents.Edge(1), TestContext.Current.CancellationToken);
        Assert.Equal(GraphEventTypes.EdgeCreated, (await subscription.ReadAsync(1))[0].EventType);
    }
}
