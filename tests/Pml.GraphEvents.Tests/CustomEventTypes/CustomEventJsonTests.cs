using System.Text;
using System.Text.Json;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.CustomEventTypes;

/// <summary>Issue 13, item 1: a host's events read back through <see cref="GraphEventJson"/> with a registry.</summary>
public sealed class CustomEventJsonTests
{
    private static GraphEventTypeRegistry Registry() => CustomEvents.Options().CustomEventTypes;

    [Fact]
    public void A_registered_type_round_trips_and_an_unregistered_one_reads_as_nothing()
    {
        var registry = Registry();
        var original = CustomEvents.Dag(1);
        var json = GraphEventJson.Serialize(original, registry);

        Assert.Equal("{\"dag_id\":\"dag:1\",\"tasks\":[\"a\",\"b\"],\"timestamp\":\"2025-12-01T10:30:00.123Z\"}", json);
        Assert.Equal(original with { }, GraphEventJson.Deserialize(DagStarted.Name, json, registry) as DagStarted, new DagComparer());
        Assert.Null(GraphEventJson.Deserialize(DagStarted.Name, json));
        Assert.Null(GraphEventJson.Deserialize("never_registered", "{}", registry));
        Assert.IsType<EdgeCreatedEvent>(GraphEventJson.Deserialize(GraphEventTypes.EdgeCreated, GraphEventJson.Serialize(SampleEvents.Edge(1)), registry));
    }

    [Fact]
    public void Serializing_a_host_type_needs_its_registry_and_a_raw_event_gives_its_data_back()
    {
        var error = Assert.Throws<ArgumentException>(() => GraphEventJson.Serialize(CustomEvents.Capability(1)));
        Assert.Contains("no registry given holds it", error.Message, StringComparison.Ordinal);

        Assert.Equal("{\"a\": 1}", GraphEventJson.Serialize(new RawGraphEvent("x", "{\"a\": 1}", default)));
    }

    [Fact]
    public void Data_that_does_not_fit_a_registered_type_is_a_JsonException()
    {
        var registry = Registry();
        Assert.Throws<JsonException>(() => GraphEventJson.Deserialize(CapabilityLearned.Name, "{\"confidence\":\"high\"}", registry));
        Assert.Throws<JsonException>(() => GraphEventJson.Deserialize(CapabilityLearned.Name, "null", registry));
    }

    [Fact]
    public void A_type_registered_under_a_name_its_records_do_not_carry_cannot_be_read_under_it()
    {
        var registry = new GraphEventTypeRegistry().Add("elsewhere", CustomEventsJson.Default.CapabilityLearned);

        var error = Assert.Throws<JsonException>(() => GraphEventJson.Deserialize("elsewhere", GraphEventJson.Serialize(CustomEvents.Capability(1), Registry()), registry));

        Assert.Contains("'elsewhere' is registered for Pml.GraphEvents.Tests.TestSupport.CapabilityLearned, whose events are named 'capability_learned'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_backplane_reads_host_types_but_not_the_ones_addressed_to_one_subscriber()
    {
        var registry = Registry();
        var data = Encoding.UTF8.GetBytes(GraphEventJson.Serialize(CustomEvents.Capability(2), registry));

        var read = GraphEventJson.DeserializeBroadcast(CapabilityLearned.Name, data, registry, out var contract);

        Assert.Equal(CustomEvents.Capability(2), read);
        Assert.Equal(CapabilityLearned.Name, contract!.Name);
        Assert.Null(GraphEventJson.DeserializeBroadcast(CapabilityLearned.Name, data, null, out _));
        Assert.Null(GraphEventJson.DeserializeBroadcast(GraphEventTypes.Heartbeat, "{\"connected_clients\":1,\"uptime_seconds\":1,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}"u8, registry, out contract));
        Assert.Null(contract);
    }

    /// <summary>Records compare lists by reference; a read-back list is a new one.</summary>
    private sealed class DagComparer : IEqualityComparer<DagStarted?>
    {
        public bool Equals(DagStarted? x, DagStarted? y) =>
            x is not null && y is not null && x.DagId == y.DagId && x.Tasks.SequenceEqual(y.Tasks) && x.Timestamp == y.Timestamp && x.EventType == y.EventType;

        public int GetHashCode(DagStarted? obj) => 0;
    }
}
