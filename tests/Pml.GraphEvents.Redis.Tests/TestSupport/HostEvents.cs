using System.Text.Json.Serialization;

namespace Pml.GraphEvents.Redis.Tests.TestSupport;

/// <summary>A host's own event type, carried by the backplane like the library's.</summary>
internal sealed record CapabilityLearned(string Capability, double Confidence, DateTimeOffset Timestamp) : GraphEvent(Name, Timestamp)
{
    public const string Name = "capability_learned";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CapabilityLearned))]
internal sealed partial class HostEventsJson : JsonSerializerContext;

internal static class HostEvents
{
    public static void Register(GraphEventsOptions options) =>
        options.CustomEventTypes.Add(CapabilityLearned.Name, HostEventsJson.Default.CapabilityLearned);
}
