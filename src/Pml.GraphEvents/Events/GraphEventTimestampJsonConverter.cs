using System.Globalization;
using System.Text.Json.Serialization;

namespace Pml.GraphEvents;

/// <summary>
/// Writes <see cref="GraphEvent.Timestamp"/> exactly as JavaScript's <c>Date.prototype.toISOString()</c>
/// does (<c>2025-12-01T10:00:00.123Z</c>): UTC, milliseconds, a <c>Z</c>. The story's clients parse
/// that shape, and the default converter would write seven fractional digits and an offset.
/// Reading accepts any ISO-8601 date-time.
/// </summary>
/// <remarks>
/// Part of the event contract, so it lives with the events: <see cref="GraphEvent.Timestamp"/> names
/// it in a <see cref="JsonConverterAttribute"/>. It is public only because a host's own event types
/// inherit that property, and the host's source-generated <see cref="JsonSerializerContext"/> must be
/// able to create the converter (an inaccessible one is ignored with warning SYSLIB1220). You never
/// need to use it yourself.
/// </remarks>
public sealed class GraphEventTimestampJsonConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> utf8 = stackalloc byte[Format.Length];
        value.UtcDateTime.TryFormat(utf8, out var written, Format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(utf8[..written]);
    }
}
