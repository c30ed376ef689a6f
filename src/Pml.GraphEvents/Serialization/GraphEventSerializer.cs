namespace Pml.GraphEvents;

/// <summary>
/// An event's <c>data</c> JSON and back, for carrying events between hosts (a backplane stores
/// the event type and this JSON, the same snake_case JSON as the wire).
/// </summary>
internal static class GraphEventSerializer
{
    /// <summary>The event's data JSON, as UTF-8, exactly as a frame's <c>data:</c> line carries it.</summary>
    public static byte[] SerializeData(GraphEvent graphEvent)
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
    /// The broadcastable event of type <paramref name="eventType"/> whose data JSON is
    /// <paramref name="utf8Json"/>, or <see langword="null"/> for a type that is not broadcast
    /// (unknown, or addressed to one subscriber).
    /// </summary>
    /// <exception cref="JsonException">The JSON does not fit the type.</exception>
    public static GraphEvent? DeserializeData(string eventType, ReadOnlySpan<byte> utf8Json)
    {
        var context = GraphEventJsonContext.Default;
        return eventType switch
        {
            GraphEventTypes.GraphSynced => JsonSerializer.Deserialize(utf8Json, context.GraphSyncedEvent),
            GraphEventTypes.EdgeCreated => JsonSerializer.Deserialize(utf8Json, context.EdgeCreatedEvent),
            GraphEventTypes.EdgeUpdated => JsonSerializer.Deserialize(utf8Json, context.EdgeUpdatedEvent),
            GraphEventTypes.WorkflowExecuted => JsonSerializer.Deserialize(utf8Json, context.WorkflowExecutedEvent),
            GraphEventTypes.MetricsUpdated => JsonSerializer.Deserialize(utf8Json, context.MetricsUpdatedEvent),
            _ => null,
        };
    }
}
