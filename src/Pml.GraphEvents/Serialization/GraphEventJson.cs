using System.Text.Json.Serialization.Metadata;

namespace Pml.GraphEvents;

/// <summary>
/// Reads the wire form of graph events back into their typed records: an SSE <c>event:</c> name
/// and its <c>data:</c> JSON become the matching <see cref="GraphEvent"/>. This is what
/// <see cref="GraphEventStreamClient"/> uses; use it directly with any other SSE reader.
/// </summary>
public static class GraphEventJson
{
    /// <summary>
    /// Turns one frame's event name and <c>data</c> JSON (UTF-8) into its typed event.
    /// </summary>
    /// <param name="eventType">The SSE event name, for example <c>edge_created</c>.</param>
    /// <param name="utf8Json">The frame's <c>data</c> field.</param>
    /// <returns>The event, or <see langword="null"/> when <paramref name="eventType"/> is not one of <see cref="GraphEventTypes"/> (a newer server may send types this version does not know).</returns>
    /// <exception cref="JsonException">The JSON does not fit the event's schema.</exception>
    public static GraphEvent? Deserialize(string eventType, ReadOnlySpan<byte> utf8Json)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        var typeInfo = TypeInfoFor(eventType);
        if (typeInfo is null)
        {
            return null;
        }

        return JsonSerializer.Deserialize(utf8Json, typeInfo) as GraphEvent
            ?? throw new JsonException($"The data of a '{eventType}' event is null.");
    }

    /// <summary>Like <see cref="Deserialize(string, ReadOnlySpan{byte})"/>, from a string.</summary>
    /// <param name="eventType">The SSE event name, for example <c>edge_created</c>.</param>
    /// <param name="json">The frame's <c>data</c> field.</param>
    /// <returns>The event, or <see langword="null"/> when <paramref name="eventType"/> is unknown.</returns>
    /// <exception cref="JsonException">The JSON does not fit the event's schema.</exception>
    public static GraphEvent? Deserialize(string eventType, string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Deserialize(eventType, System.Text.Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Writes an event's <c>data</c> JSON: one line, snake_case, exactly as it goes on the wire.</summary>
    /// <param name="graphEvent">The event.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(GraphEvent graphEvent) => System.Text.Encoding.UTF8.GetString(SerializeToUtf8Bytes(graphEvent));

    /// <summary>The event's data JSON as UTF-8, exactly as a frame's <c>data:</c> line carries it (what a backplane stores).</summary>
    internal static byte[] SerializeToUtf8Bytes(GraphEvent graphEvent)
    {
        ArgumentNullException.ThrowIfNull(graphEvent);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            graphEvent.WriteData(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Like <see cref="Deserialize(string, ReadOnlySpan{byte})"/>, but only for events that are
    /// broadcast: <see langword="null"/> for a type addressed to one subscriber (<c>connected</c>,
    /// <c>events_lost</c>) or a heartbeat, which a backplane never carries.
    /// </summary>
    internal static GraphEvent? DeserializeBroadcast(string eventType, ReadOnlySpan<byte> utf8Json) =>
        GraphEventTypes.IsKnown(eventType) && (GraphEventTypes.KindOf(eventType) & GraphEventKind.Filterable) != 0
            ? Deserialize(eventType, utf8Json)
            : null;

    // A switch on the fixed names rather than a dictionary: the set is closed and small, and each
    // arm keeps the source-generated metadata strongly typed (no reflection, trimming-safe).
    private static JsonTypeInfo? TypeInfoFor(string eventType) => eventType switch
    {
        GraphEventTypes.Connected => GraphEventJsonContext.Default.ConnectedEvent,
        GraphEventTypes.GraphSynced => GraphEventJsonContext.Default.GraphSyncedEvent,
        GraphEventTypes.EdgeCreated => GraphEventJsonContext.Default.EdgeCreatedEvent,
        GraphEventTypes.EdgeUpdated => GraphEventJsonContext.Default.EdgeUpdatedEvent,
        GraphEventTypes.WorkflowExecuted => GraphEventJsonContext.Default.WorkflowExecutedEvent,
        GraphEventTypes.MetricsUpdated => GraphEventJsonContext.Default.MetricsUpdatedEvent,
        GraphEventTypes.Heartbeat => GraphEventJsonContext.Default.HeartbeatEvent,
        GraphEventTypes.EventsLost => GraphEventJsonContext.Default.EventsLostEvent,
        _ => null,
    };
}
