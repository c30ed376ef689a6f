using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pml.GraphEvents.Tests.TestSupport;

/// <summary>A host's own event, as the story's project went on to add: a capability learned from the graph.</summary>
internal sealed record CapabilityLearned(string Capability, string ToolId, double Confidence, DateTimeOffset Timestamp)
    : GraphEvent(Name, Timestamp)
{
    public const string Name = "capability_learned";
}

/// <summary>Another host event, with a list and a name using every allowed punctuation.</summary>
internal sealed record DagStarted(string DagId, IReadOnlyList<string> Tasks, DateTimeOffset Timestamp)
    : GraphEvent(Name, Timestamp)
{
    public const string Name = "dag.v2:started-now";
}

/// <summary>A host event that is never registered anywhere.</summary>
internal sealed record NeverRegistered(string What, DateTimeOffset Timestamp) : GraphEvent("never_registered", Timestamp);

/// <summary>A host event whose name comes from its data: publishing must refuse every name but the registered one.</summary>
internal sealed record NamedByData(string Label, DateTimeOffset Timestamp) : GraphEvent(Label, Timestamp);

/// <summary>A host event with a converter that writes raw JSON across lines.</summary>
internal sealed record MultiLine([property: JsonConverter(typeof(RawLinesConverter))] int[] Values, DateTimeOffset Timestamp)
    : GraphEvent("multi_line", Timestamp);

/// <summary>Writes an int array as raw JSON with a line break between items: valid JSON, but two lines.</summary>
internal sealed class RawLinesConverter : JsonConverter<int[]>
{
    public override int[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => [];

    public override void Write(Utf8JsonWriter writer, int[] value, JsonSerializerOptions options) =>
        writer.WriteRawValue("[" + string.Join(",\n", value) + "]");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CapabilityLearned))]
[JsonSerializable(typeof(DagStarted))]
[JsonSerializable(typeof(NeverRegistered))]
[JsonSerializable(typeof(NamedByData))]
[JsonSerializable(typeof(MultiLine))]
internal sealed partial class CustomEventsJson : JsonSerializerContext;

internal static class CustomEvents
{
    public static CapabilityLearned Capability(int i) => new($"capability:{i}", $"tool:{i}", 0.75, SampleEvents.Timestamp);

    public static DagStarted Dag(int i) => new($"dag:{i}", ["a", "b"], SampleEvents.Timestamp);

    /// <summary>Options whose registry holds <see cref="CapabilityLearned"/> and <see cref="DagStarted"/>.</summary>
    public static GraphEventsOptions Options(Action<GraphEventsOptions>? configure = null)
    {
        var options = new GraphEventsOptions();
        options.CustomEventTypes
            .Add(CapabilityLearned.Name, CustomEventsJson.Default.CapabilityLearned)
            .Add(DagStarted.Name, CustomEventsJson.Default.DagStarted);
        configure?.Invoke(options);
        return options;
    }
}
