using System.Text.Json.Serialization;

namespace Pml.GraphEvents;

/// <summary>
/// An event of the tool graph, as it travels to every subscriber. Each concrete event type has one
/// fixed name (<see cref="EventType"/>) and serializes to the snake_case JSON of the wire schema.
/// </summary>
/// <remarks>
/// The set of event types is closed: the wire schema is a contract with browsers and tools, so
/// only this library defines events. That is also why <see cref="EventType"/> is never user text
/// and cannot inject an SSE field.
/// </remarks>
public abstract record GraphEvent
{
    private protected GraphEvent(string eventType, DateTimeOffset timestamp)
    {
        EventType = eventType;
        Timestamp = timestamp;
    }

    /// <summary>The SSE event name, one of <see cref="GraphEventTypes"/>.</summary>
    [JsonIgnore]
    public string EventType { get; }

    /// <summary>When the event happened. Written as ISO-8601 UTC with milliseconds, e.g. <c>2025-12-01T10:00:00.000Z</c>.</summary>
    [JsonPropertyOrder(1000)]
    [JsonConverter(typeof(UtcTimestampJsonConverter))]
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The bit of this event's type in an event-type filter.</summary>
    internal abstract GraphEventKind Kind { get; }

    /// <summary>Writes the event's <c>data</c> JSON (one line, no indentation) with the source-generated serializer.</summary>
    internal abstract void WriteData(Utf8JsonWriter writer);

    /// <summary>
    /// An upper bound of the length of <see cref="WriteData"/>'s output in bytes, from string
    /// lengths alone (see <see cref="EncodedSize"/>): the publish-time size check encodes an event
    /// only when this says it may be too large.
    /// </summary>
    internal abstract long DataBound();

    /// <summary>
    /// The first field the strict JSON serializer cannot write (JSON has no NaN or infinity), as
    /// <c>name (value)</c> in wire names; <see langword="null"/> when every field can be written.
    /// </summary>
    internal virtual string? FindUnencodableField() => null;

    /// <summary>The <see cref="FindUnencodableField"/> answer for one number.</summary>
    private protected static string? NonFinite(string field, double value) =>
        double.IsFinite(value) ? null : $"{field} ({value.ToString(System.Globalization.CultureInfo.InvariantCulture)})";
}
