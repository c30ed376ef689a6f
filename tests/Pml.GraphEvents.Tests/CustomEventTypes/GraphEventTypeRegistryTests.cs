using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.CustomEventTypes;

/// <summary>Issue 13, item 1: what a host may register, and what it may not.</summary>
public sealed class GraphEventTypeRegistryTests
{
    [Theory]
    [InlineData("capability_learned")]
    [InlineData("dag.v2:started-now")]
    [InlineData("x")]
    [InlineData("0")]
    [InlineData("a-b_c.d:e")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789_.:-abcdefghijklmnopqrstuvwx")] // 64 characters
    public void Valid_names_are_registered(string name)
    {
        var registry = new GraphEventTypeRegistry().Add(name, CustomEventsJson.Default.CapabilityLearned);

        Assert.True(GraphEventTypeRegistry.IsValidName(name));
        Assert.True(registry.Contains(name));
        Assert.Equal([name], registry.Names);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789_.:-abcdefghijklmnopqrstuvwxy", "65 characters; at most 64")]
    [InlineData("Capability_learned", "'C' at position 0")]
    [InlineData("capability_LEARNED", "'L' at position 11")]
    [InlineData("capability learned", "' ' at position 10")]
    [InlineData("capability\nlearned", "U+000A at position 10")]
    [InlineData("capability\rlearned", "U+000D at position 10")]
    [InlineData("tab\t", "U+0009 at position 3")]
    [InlineData("café", "U+00E9 at position 3")]
    [InlineData("a/b", "'/' at position 1")]
    [InlineData("a,b", "',' at position 1")]
    [InlineData("data: x", "' ' at position 5")]
    public void Invalid_names_are_refused_with_the_reason(string name, string reason)
    {
        var registry = new GraphEventTypeRegistry();

        var error = Assert.Throws<ArgumentException>(() => registry.Add(name, CustomEventsJson.Default.CapabilityLearned));

        Assert.Equal("name", error.ParamName);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
        Assert.False(GraphEventTypeRegistry.IsValidName(name));
        Assert.Equal(0, registry.Count);
    }

    public static TheoryData<string> BuiltInNames => [.. GraphEventTypes.All];

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void The_librarys_names_are_reserved(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new GraphEventTypeRegistry().Add(name, CustomEventsJson.Default.CapabilityLearned));

        Assert.Contains($"'{name}' is one of the library's event names", error.Message, StringComparison.Ordinal);
        Assert.False(GraphEventTypeRegistry.IsValidName(name));
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        var registry = new GraphEventTypeRegistry();
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => registry.Add(null!, CustomEventsJson.Default.CapabilityLearned)).ParamName);
        Assert.Equal("jsonTypeInfo", Assert.Throws<ArgumentNullException>(() => registry.Add<CapabilityLearned>("x", null!)).ParamName);
        Assert.False(GraphEventTypeRegistry.IsValidName(null));
    }

    [Fact]
    public void A_name_twice_is_refused_naming_the_type_it_has()
    {
        var registry = new GraphEventTypeRegistry().Add("shared", CustomEventsJson.Default.CapabilityLearned);

        var error = Assert.Throws<ArgumentException>(() => registry.Add("shared", CustomEventsJson.Default.DagStarted));

        Assert.Contains("'shared' is registered already, for Pml.GraphEvents.Tests.TestSupport.CapabilityLearned", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, registry.Count);
    }

    [Fact]
    public void A_type_twice_is_refused_naming_the_name_it_has()
    {
        var registry = new GraphEventTypeRegistry().Add("first", CustomEventsJson.Default.CapabilityLearned);

        var error = Assert.Throws<ArgumentException>(() => registry.Add("second", CustomEventsJson.Default.CapabilityLearned));

        Assert.Contains("CapabilityLearned is registered already, as 'first'", error.Message, StringComparison.Ordinal);
        Assert.Equal(["first"], registry.Names);
    }

    [Fact]
    public void The_librarys_own_types_and_abstract_types_are_refused()
    {
        var registry = new GraphEventTypeRegistry();

        Assert.Contains("one of the library's own types", Assert.Throws<ArgumentException>(() => registry.Add("my_edge", GraphEventJsonContext.Default.EdgeCreatedEvent)).Message, StringComparison.Ordinal);
        var raw = (JsonTypeInfo<RawGraphEvent>)JsonSerializerOptions.Default.GetTypeInfo(typeof(RawGraphEvent));
        Assert.Contains("one of the library's own types", Assert.Throws<ArgumentException>(() => registry.Add("raw", raw)).Message, StringComparison.Ordinal);
        var abstractInfo = (JsonTypeInfo<GraphEvent>)JsonSerializerOptions.Default.GetTypeInfo(typeof(GraphEvent));
        Assert.Contains("is abstract", Assert.Throws<ArgumentException>(() => registry.Add("any", abstractInfo)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_in_use_is_frozen()
    {
        var options = CustomEvents.Options();
        await using var broadcaster = GraphEventBroadcaster.Create(options);

        var error = Assert.Throws<InvalidOperationException>(() => options.CustomEventTypes.Add("late", CustomEventsJson.Default.NeverRegistered));

        Assert.Contains("'late' was registered after this registry came into use", error.Message, StringComparison.Ordinal);
        Assert.Same(options.CustomEventTypes, broadcaster.CustomEventTypes);
        Assert.Equal([CapabilityLearned.Name, DagStarted.Name], broadcaster.CustomEventTypes.Names);
    }

    [Fact]
    public void Reading_a_registry_before_it_is_in_use_does_not_freeze_it()
    {
        var registry = new GraphEventTypeRegistry();
        Assert.False(registry.Contains(CapabilityLearned.Name));
        registry.Add(CapabilityLearned.Name, CustomEventsJson.Default.CapabilityLearned);
        Assert.IsType<CapabilityLearned>(GraphEventJson.Deserialize(CapabilityLearned.Name, GraphEventJson.Serialize(CustomEvents.Capability(1), registry), registry));

        registry.Add(DagStarted.Name, CustomEventsJson.Default.DagStarted);

        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void Each_type_gets_its_own_filter_bit_above_the_librarys_and_the_57th_type_is_refused()
    {
        var registry = new GraphEventTypeRegistry();
        var add = typeof(GraphEventTypeRegistry).GetMethod(nameof(GraphEventTypeRegistry.Add))!;

        // 57 distinct closed types: Probe<Probe<...<Marker>...>>.
        var types = new List<Type>();
        var type = typeof(Marker);
        for (var i = 0; i < GraphEventTypeRegistry.MaxCount + 1; i++)
        {
            type = typeof(Probe<>).MakeGenericType(type);
            types.Add(type);
        }

        for (var i = 0; i < GraphEventTypeRegistry.MaxCount; i++)
        {
            add.MakeGenericMethod(types[i]).Invoke(registry, [$"probe_{i}", JsonSerializerOptions.Default.GetTypeInfo(types[i])]);
        }

        var last = Assert.Throws<TargetInvocationException>(() => add.MakeGenericMethod(types[^1]).Invoke(registry, ["probe_56", JsonSerializerOptions.Default.GetTypeInfo(types[^1])]));
        Assert.Contains($"at most {GraphEventTypeRegistry.MaxCount} event types", Assert.IsType<InvalidOperationException>(last.InnerException).Message, StringComparison.Ordinal);

        var kinds = Enumerable.Range(0, GraphEventTypeRegistry.MaxCount).Select(i => (ulong)registry.Find($"probe_{i}")!.Kind).ToList();
        Assert.All(kinds, k => Assert.Equal(1UL, ulong.PopCount(k)));
        Assert.Equal(GraphEventTypeRegistry.MaxCount, kinds.Distinct().Count());
        Assert.All(kinds, k => Assert.Equal(0UL, k & (ulong)(GraphEventKind.Control | GraphEventKind.Filterable)));
        Assert.Equal((ulong)GraphEventKind.Custom, kinds.Aggregate(0UL, (all, k) => all | k));
    }

    [Fact]
    public void The_librarys_contracts_are_indexed_by_their_bits()
    {
        foreach (var sample in SampleEvents.All())
        {
            var contract = BuiltInEventContracts.Of(sample);
            Assert.Equal(sample.EventType, contract.Name);
            Assert.Equal(sample.Kind, contract.Kind);
            Assert.Equal(sample.GetType(), contract.EventClrType);
            Assert.Same(contract, BuiltInEventContracts.Find(sample.EventType));
        }
    }

    private sealed class Marker;

    private sealed record Probe<T>(DateTimeOffset Timestamp) : GraphEvent("probe", Timestamp);
}
