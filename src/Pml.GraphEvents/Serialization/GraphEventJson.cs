namespace Pml.GraphEvents;

/// <summary>
/// Reads the wire form of graph events back into their typed records: an SSE <c>event:</c> name
/// and its <c>data:</c> JSON become the matching <see cref="GraphEvent"/>, for the library's types
/// and for those of a <see cref="GraphEventTypeRegistry"/>. This is what
/// <see cref="GraphEventStreamClient"/> uses; use it directly with any other SSE reader.
/// </summary>
public static class GraphEventJson
{
    /// <summary>
    /// Turns one frame's event name and <c>data</c> JSON (UTF-8) into its typed event.
    /// </summary>
    /// <param name="eventType">The SSE event name, for example <c>edge_created</c>.</param>
    /// <param name="utf8Json">The frame's <c>data</c> field.</param>
    /// <param name="customEventTypes">A host's own types to read too; the library's types only when <see langword="null"/>.</param>
    /// <returns>
    /// The event, or <see langword="null"/> when <paramref name="eventType"/> is neither one of
    /// <see cref="GraphEventTypes"/> nor registered (a newer server, or a host's type this reader
    /// was not told of): the caller decides what an unknown type is worth, as
    /// <see cref="GraphEventStreamClient"/> does by yielding a <see cref="RawGraphEvent"/>.
    /// </returns>
    /// <exception cref="JsonException">The JSON does not fit the event's schema.</exception>
    public static GraphEvent? Deserialize(string eventType, ReadOnlySpan<byte> utf8Json, GraphEventTypeRegistry? customEventTypes = null)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        return FindContract(eventType, customEventTypes)?.Read(utf8Json);
    }

    /// <summary>Like <see cref="Deserialize(string, ReadOnlySpan{byte}, GraphEventTypeRegistry)"/>, from a string.</summary>
    /// <param name="eventType">The SSE event name, for example <c>edge_created</c>.</param>
    /// <param name="json">The frame's <c>data</c> field.</param>
    /// <param name="customEventTypes">A host's own types to read too; the library's types only when <see langword="null"/>.</param>
    /// <returns>The event, or <see langword="null"/> when <paramref name="eventType"/> is unknown.</returns>
    /// <exception cref="JsonException">The JSON does not fit the event's schema.</exception>
    public static GraphEvent? Deserialize(string eventType, string json, GraphEventTypeRegistry? customEventTypes = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Deserialize(eventType, System.Text.Encoding.UTF8.GetBytes(json), customEventTypes);
    }

    /// <summary>
    /// Writes an event's <c>data</c> JSON: one line, exactly as it goes on the wire. A
    /// <see cref="RawGraphEvent"/> gives back its <see cref="RawGraphEvent.Data"/>.
    /// </summary>
    /// <param name="graphEvent">The event.</param>
    /// <param name="customEventTypes">The registry of a host's type; not needed for the library's types.</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="ArgumentException"><paramref name="graphEvent"/> is of a host's type that <paramref name="customEventTypes"/> does not hold.</exception>
    public static string Serialize(GraphEvent graphEvent, GraphEventTypeRegistry? customEventTypes = null)
    {
        ArgumentNullException.ThrowIfNull(graphEvent);
        if (graphEvent is RawGraphEvent raw)
        {
            return raw.Data;
        }

        var contract = graphEvent.Kind != GraphEventKind.None
            ? BuiltInEventContracts.Of(graphEvent.Kind)
            : customEventTypes?.Find(graphEvent.GetType())
                ?? throw new ArgumentException($"{graphEvent.GetType().FullName} is not one of the library's event types, and no registry given holds it.", nameof(graphEvent));
        return System.Text.Encoding.UTF8.GetString(SerializeToUtf8Bytes(graphEvent, contract));
    }

    /// <summary>The data JSON of one of the library's events as UTF-8, exactly as a frame's <c>data:</c> line carries it.</summary>
    internal static byte[] SerializeToUtf8Bytes(GraphEvent graphEvent) => SerializeToUtf8Bytes(graphEvent, BuiltInEventContracts.Of(graphEvent));

    /// <summary>The event's data JSON as UTF-8, exactly as a frame's <c>data:</c> line carries it (what a backplane stores).</summary>
    internal static byte[] SerializeToUtf8Bytes(GraphEvent graphEvent, GraphEventContract contract)
    {
        ArgumentNullException.ThrowIfNull(graphEvent);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            contract.WriteData(writer, graphEvent);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Like <see cref="Deserialize(string, ReadOnlySpan{byte}, GraphEventTypeRegistry)"/>, but only for
    /// events that are broadcast: <see langword="null"/> for a type addressed to one subscriber
    /// (<c>connected</c>, <c>events_lost</c>) or a heartbeat, which a backplane never carries.
    /// </summary>
    internal static GraphEvent? DeserializeBroadcast(string eventType, ReadOnlySpan<byte> utf8Json, GraphEventTypeRegistry? customEventTypes, out GraphEventContract? contract)
    {
        contract = FindContract(eventType, customEventTypes);
        if (contract is null || (contract.Kind & GraphEventKind.Control) != 0)
        {
            contract = null;
            return null;
        }

        return contract.Read(utf8Json);
    }

    /// <summary>Like <see cref="DeserializeBroadcast(string, ReadOnlySpan{byte}, GraphEventTypeRegistry, out GraphEventContract)"/> for the library's types only.</summary>
    internal static GraphEvent? DeserializeBroadcast(string eventType, ReadOnlySpan<byte> utf8Json) => DeserializeBroadcast(eventType, utf8Json, null, out _);

    /// <summary>
    /// A <see cref="RawGraphEvent"/> for a frame of a type the reader does not know, its timestamp
    /// read from the data's top-level <c>timestamp</c> when there is one (never throws: the data of
    /// an unknown type need not even be JSON).
    /// </summary>
    internal static RawGraphEvent ReadRaw(string eventType, ReadOnlySpan<byte> utf8Data) =>
        new(eventType, System.Text.Encoding.UTF8.GetString(utf8Data), ReadTimestamp(utf8Data));

    /// <summary>The contract of a library name, or else of a registered one.</summary>
    internal static GraphEventContract? FindContract(string eventType, GraphEventTypeRegistry? customEventTypes) =>
        BuiltInEventContracts.Find(eventType) ?? customEventTypes?.Find(eventType);

    private static DateTimeOffset ReadTimestamp(ReadOnlySpan<byte> utf8Data)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTimestamp = reader.ValueTextEquals("timestamp"u8);
                reader.Read();
                if (isTimestamp && reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var timestamp))
                {
                    return timestamp;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON, or cut short: a raw event keeps its text and has no timestamp.
        }

        return default;
    }
}
