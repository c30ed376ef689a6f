using System.Text.Json.Serialization;

namespace Pml.GraphEvents;

/// <summary>
/// Source-generated System.Text.Json metadata for every event: no reflection at run time, and the
/// wire's snake_case names come from one policy here rather than an attribute on each property.
/// Compact output matters: an SSE <c>data:</c> field must be a single line.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ConnectedEvent))]
[JsonSerializable(typeof(GraphSyncedEvent))]
[JsonSerializable(typeof(EdgeCreatedEvent))]
[JsonSerializable(typeof(EdgeUpdatedEvent))]
[JsonSerializable(typeof(WorkflowExecutedEvent))]
[JsonSerializable(typeof(MetricsUpdatedEvent))]
[JsonSerializable(typeof(HeartbeatEvent))]
[JsonSerializable(typeof(EventsLostEvent))]
internal sealed partial class GraphEventJsonContext : JsonSerializerContext;
