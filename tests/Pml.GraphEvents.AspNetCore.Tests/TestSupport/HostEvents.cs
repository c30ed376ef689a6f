using System.Text.Json.Serialization;

namespace Pml.GraphEvents.AspNetCore.Tests.TestSupport;

/// <summary>A host's own event type, streamed beside the library's.</summary>
internal sealed record MyCustomEvent(string Message, int Count, DateTimeOffset Timestamp) : GraphEvent(Name, Timestamp)
{
    public const string Name = "mycustom_type";
}

/// <summary>A second host type, which the server knows and a client may not.</summary>
internal sealed record OtherCustomEvent(string DagId, DateTimeOffset Timestamp) : GraphEvent(Name, Timestamp)
{
    public const string Name = "other_custom";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MyCustomEvent))]
[JsonSerializable(typeof(OtherCustomEvent))]
internal sealed partial class HostEventsJson : JsonSerializerContext;
