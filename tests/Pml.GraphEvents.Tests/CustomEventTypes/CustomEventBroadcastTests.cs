using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.CustomEventTypes;

/// <summary>Issue 13, item 1: a host's own events go through the broadcaster like the library's.</summary>
public sealed class CustomEventBroadcastTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Text(GraphEventFrame frame) => Encoding.UTF8.GetString(frame.Utf8Bytes.Span);

    [Fact]
    public async Task A_registered_event_is_encoded_once_under_its_registered_name_and_read_typed()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options());
        using var first = broadcaster.Subscribe();
        using var second = broadcaster.Subscribe();

        await broadcaster.PublishAsync(CustomEvents.Capability(1), Ct);
        await broadcaster.PublishAsync(CustomEvents.Dag(2), Ct);

        var frames = await first.ReadAsync(3);
        Assert.Equal(
            "id: " + broadcaster.IdAt(1) + "\nevent: capability_learned\ndata: {\"capability\":\"capability:1\",\"tool_id\":\"tool:1\",\"confidence\":0.75,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n",
            Text(frames[1]));
        Assert.Equal(
            "id: " + broadcaster.IdAt(2) + "\nevent: dag.v2:started-now\ndata: {\"dag_id\":\"dag:2\",\"tasks\":[\"a\",\"b\"],\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n",
            Text(frames[2]));
        Assert.Equal(CustomEvents.Capability(1), frames[1].Event);
        Assert.Equal(CapabilityLearned.Name, frames[1].EventType);

        // One encoding, shared: the second subscriber holds the very same frames.
        var again = await second.ReadAsync(3);
        Assert.Same(frames[1], again[1]);
        Assert.Same(frames[2], again[2]);
    }

    [Fact]
    public async Task Publishing_an_unregistered_type_throws_at_publish_naming_the_type()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options());
        using var subscription = broadcaster.Subscribe();
        var stranger = new NeverRegistered("x", SampleEvents.Timestamp);

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(stranger));
        Assert.Equal("graphEvent", error.ParamName);
        Assert.Contains("Pml.GraphEvents.Tests.TestSupport.NeverRegistered is not an event type of this broadcaster", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddEventType<NeverRegistered>", error.Message, StringComparison.Ordinal);
        Assert.Contains($"registered: {CapabilityLearned.Name}, {DagStarted.Name}", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => broadcaster.PublishAsync(stranger, Ct).AsTask());

        // Refused before the pump: nothing was queued, nothing failed there, the next event is id 1.
        await broadcaster.PublishAsync(CustomEvents.Capability(1), Ct);
        var frames = await subscription.ReadAsync(2);
        Assert.Equal(broadcaster.IdAt(1), frames[1].Id);
        Assert.Equal(0, broadcaster.GetStatistics().EventsFailed);
    }

    [Fact]
    public async Task Without_a_registry_a_host_type_is_refused_and_a_raw_event_never_publishes()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();

        Assert.Contains("(registered: none)", Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(CustomEvents.Capability(1))).Message, StringComparison.Ordinal);
        var raw = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new RawGraphEvent("capability_learned", "{}", SampleEvents.Timestamp)));
        Assert.Contains("RawGraphEvent ('capability_learned') is what a reader makes of a type it does not know", raw.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_whose_name_is_not_its_registered_name_is_refused_so_data_never_names_a_frame()
    {
        var options = new GraphEventsOptions();
        options.CustomEventTypes.Add("named", CustomEventsJson.Default.NamedByData);
        await using var broadcaster = GraphEventBroadcaster.Create(options);
        using var subscription = broadcaster.Subscribe();

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new NamedByData("x\nevent: heartbeat", SampleEvents.Timestamp)));
        Assert.Contains("is named 'x\\u000Aevent: heartbeat', but the type is registered as 'named'", error.Message, StringComparison.Ordinal);

        Assert.True(broadcaster.TryPublish(new NamedByData("named", SampleEvents.Timestamp)));
        Assert.StartsWith("id: " + broadcaster.IdAt(1) + "\nevent: named\ndata: {\"label\":\"named\",", Text((await subscription.ReadAsync(2))[1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_that_a_converter_wrote_on_two_lines_is_refused_at_publish()
    {
        var options = new GraphEventsOptions();
        options.CustomEventTypes.Add("multi_line", CustomEventsJson.Default.MultiLine);
        await using var broadcaster = GraphEventBroadcaster.Create(options);

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new MultiLine([1, 2], SampleEvents.Timestamp)));

        Assert.Contains("'multi_line' event's data JSON holds a line break", error.Message, StringComparison.Ordinal);
        Assert.True(broadcaster.TryPublish(new MultiLine([1], SampleEvents.Timestamp)));
    }

    [Fact]
    public async Task A_host_event_over_MaxEventBytes_is_serialized_then_refused_at_publish()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options(o => o.MaxEventBytes = 1_024));
        var big = new CapabilityLearned(new string('<', 200), "tool", 0.5, SampleEvents.Timestamp);

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(big));

        // 200 '<' escape to 1,200 bytes: the size is the encoded one, measured by serializing.
        Assert.Contains("'capability_learned' event encodes to a", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:MaxEventBytes (1,024 bytes)", error.Message, StringComparison.Ordinal);
        Assert.True(broadcaster.TryPublish(new CapabilityLearned(new string('<', 100), "tool", 0.5, SampleEvents.Timestamp)));
    }

    [Fact]
    public async Task A_number_json_cannot_carry_is_refused_at_publish()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options());

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new CapabilityLearned("c", "t", double.NaN, SampleEvents.Timestamp)));

        Assert.Contains("'capability_learned' event cannot be encoded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_name_host_types_and_every_subscriber_gets_only_what_it_asked_for()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options(), time);
        using var capabilities = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [CapabilityLearned.Name] });
        using var dagsAndEdges = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [DagStarted.Name, GraphEventTypes.EdgeCreated] });
        using var edges = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [GraphEventTypes.EdgeCreated] });
        using var everything = broadcaster.Subscribe();

        await broadcaster.PublishAsync(CustomEvents.Capability(1), Ct);
        await broadcaster.PublishAsync(SampleEvents.Edge(2), Ct);
        await broadcaster.PublishAsync(CustomEvents.Dag(3), Ct);
        await broadcaster.PublishAsync(CustomEvents.Capability(4), Ct);
        time.Advance(new GraphEventsOptions().HeartbeatInterval);

        static string[] Types(List<GraphEventFrame> frames) => [.. frames.Skip(1).Select(f => f.EventType)];
        Assert.Equal([CapabilityLearned.Name, CapabilityLearned.Name, GraphEventTypes.Heartbeat], Types(await capabilities.ReadAsync(4)));
        Assert.Equal([GraphEventTypes.EdgeCreated, DagStarted.Name, GraphEventTypes.Heartbeat], Types(await dagsAndEdges.ReadAsync(4)));
        Assert.Equal([GraphEventTypes.EdgeCreated, GraphEventTypes.Heartbeat], Types(await edges.ReadAsync(3)));
        Assert.Equal([CapabilityLearned.Name, GraphEventTypes.EdgeCreated, DagStarted.Name, CapabilityLearned.Name, GraphEventTypes.Heartbeat], Types(await everything.ReadAsync(6)));
    }

    [Fact]
    public async Task A_filter_naming_an_unregistered_type_is_refused_listing_the_known_ones()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options());

        var error = Assert.Throws<ArgumentException>(() => broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = ["never_registered", CapabilityLearned.Name] }));

        Assert.Contains("Unknown event type(s): 'never_registered'", error.Message, StringComparison.Ordinal);
        Assert.Contains("events_lost, capability_learned, dag.v2:started-now.", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task Host_events_are_replayed_from_Last_Event_ID_with_the_filter_applied()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(CustomEvents.Options());
        using (var watcher = broadcaster.Subscribe())
        {
            await broadcaster.PublishAsync(CustomEvents.Capability(1), Ct);
            await broadcaster.PublishAsync(SampleEvents.Edge(2), Ct);
            await broadcaster.PublishAsync(CustomEvents.Dag(3), Ct);
            await broadcaster.PublishAsync(CustomEvents.Capability(4), Ct);
            await watcher.ReadAsync(5);
        }

        using var all = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(1) });
        var replayed = await all.ReadAsync(4);
        Assert.Equal([2L, 3, 4], replayed.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.IsType<DagStarted>(replayed[2].Event);
        Assert.Equal(CustomEvents.Capability(4), replayed[3].Event);

        using var filtered = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0), EventTypes = [CapabilityLearned.Name] });
        await broadcaster.PublishAsync(CustomEvents.Capability(5), Ct);
        var frames = await filtered.ReadAsync(4);
        Assert.Equal([1L, 4, 5], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.All(frames.Skip(1), f => Assert.IsType<CapabilityLearned>(f.Event));
        Assert.Equal(0, filtered.FramesLost);
    }

    [Fact]
    public async Task Two_broadcasters_in_one_process_know_their_own_types()
    {
        await using var knowing = GraphEventBroadcaster.Create(CustomEvents.Options());
        await using var other = GraphEventBroadcaster.Create();

        Assert.True(knowing.TryPublish(CustomEvents.Capability(1)));
        Assert.Throws<ArgumentException>(() => other.TryPublish(CustomEvents.Capability(1)));
        Assert.Throws<ArgumentException>(() => other.Subscribe(new GraphEventSubscribeOptions { EventTypes = [CapabilityLearned.Name] }));
        Assert.Equal(0, other.CustomEventTypes.Count);
    }

    [Fact]
    public async Task AddEventType_registers_on_the_containers_broadcaster_only()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents()
            .AddEventType(CapabilityLearned.Name, CustomEventsJson.Default.CapabilityLearned)
            .AddEventType(DagStarted.Name, CustomEventsJson.Default.DagStarted);
        await using var provider = services.BuildServiceProvider();
        await using var plain = new ServiceCollection().AddGraphEvents().Services.BuildServiceProvider();

        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
        using var subscription = broadcaster.Subscribe(new GraphEventSubscribeOptions { EventTypes = [DagStarted.Name] });
        await broadcaster.PublishAsync(CustomEvents.Capability(1), Ct);
        await broadcaster.PublishAsync(CustomEvents.Dag(2), Ct);
        Assert.Equal("dag:2", Assert.IsType<DagStarted>((await subscription.ReadAsync(2))[1].Event).DagId);
        Assert.Equal([CapabilityLearned.Name, DagStarted.Name], broadcaster.CustomEventTypes.Names);

        Assert.Throws<ArgumentException>(() => plain.GetRequiredService<IGraphEventPublisher>().TryPublish(CustomEvents.Capability(1)));
    }

    [Fact]
    public void AddEventType_checks_the_name_and_duplicates_at_the_call()
    {
        var builder = new ServiceCollection().AddGraphEvents().AddEventType(CapabilityLearned.Name, CustomEventsJson.Default.CapabilityLearned);

        Assert.Contains("'Capability' has 'C' at position 0", Assert.Throws<ArgumentException>(() => builder.AddEventType("Capability", CustomEventsJson.Default.DagStarted)).Message, StringComparison.Ordinal);
        Assert.Contains("is registered already, for", Assert.Throws<ArgumentException>(() => builder.AddEventType(CapabilityLearned.Name, CustomEventsJson.Default.DagStarted)).Message, StringComparison.Ordinal);
        Assert.Contains("is registered already, as 'capability_learned'", Assert.Throws<ArgumentException>(() => builder.AddEventType("again", CustomEventsJson.Default.CapabilityLearned)).Message, StringComparison.Ordinal);
        Assert.Contains("'heartbeat' is one of the library's event names", Assert.Throws<ArgumentException>(() => builder.AddEventType(GraphEventTypes.Heartbeat, CustomEventsJson.Default.DagStarted)).Message, StringComparison.Ordinal);

        // The refused calls left nothing behind: the broadcaster knows exactly the one type.
        using var provider = builder.Services.BuildServiceProvider();
        Assert.Equal([CapabilityLearned.Name], provider.GetRequiredService<IGraphEventSubscriber>().CustomEventTypes.Names);
    }
}
