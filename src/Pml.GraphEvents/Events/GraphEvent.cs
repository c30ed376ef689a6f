using System.Text.Json.Serialization;

namespace Pml.GraphEvents;

/// <summary>
/// An event of the tool graph, as it travels to every subscriber. Each concrete event type has one
/// fixed name (<see cref="EventType"/>) and serializes to the snake_case JSON of the wire schema.
/// </summary>
/// <remarks>
/// <para>
/// The library's own types (<see cref="GraphEventTypes"/>) are always known. A host adds its own by
/// deriving a record from this one and registering it, with its name and its source-generated JSON
/// contract, in <see cref="GraphEventsOptions.CustomEventTypes"/> (or with <c>AddEventType</c> on
/// <c>AddGraphEvents()</c>): a broadcaster publishes only the types it knows.
/// </para>
/// <para>
/// The <c>event:</c> line of a frame is always the name a type was registered under, which was
/// checked then (lower-case letters, digits, <c>_ . : -</c>, at most 64 characters), never text
/// taken from an event's fields: no value can inject an SSE field.
/// </para>
/// </remarks>
public abstract record GraphEvent
{
    /// <summary>Creates an event of the type named <paramref name="eventType"/>.</summary>
    /// <param name="eventType">
    /// The event's wire name. A host's own type passes the name it is registered under, as a constant:
    /// publishing refuses an event whose name is not its type's registered name.
    /// </param>
    /// <param name="timestamp">When the event happened.</param>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> is <see langword="null"/>.</exception>
    protected GraphEvent(string eventType, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        EventType = eventType;
        Timestamp = timestamp;
    }

    /// <summary>The SSE event name: one of <see cref="GraphEventTypes"/>, or the name a host's own type is registered under.</summary>
    [JsonIgnore]
    public string EventType { get; }

    /// <summary>When the event happened. Written as ISO-8601 UTC with milliseconds, e.g. <c>2025-12-01T10:00:00.000Z</c>.</summary>
    [JsonPropertyOrder(1000)]
    [JsonConverter(typeof(GraphEventTimestampJsonConverter))]
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>
    /// The bit of one of the library's own types in an event-type filter; <see cref="GraphEventKind.None"/>
    /// for any other type (a host's own, whose bit its registration holds, or a <see cref="RawGraphEvent"/>).
    /// A virtual property rather than a lookup, so that the library's events cost no search on the hot path.
    /// </summary>
    internal virtual GraphEventKind Kind => GraphEventKind.None;
}
