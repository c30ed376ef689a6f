using System.Globalization;
using System.Text.Json.Serialization;

namespace Pml.GraphEvents;

/// <summary>
/// Writes timestamps exactly as JavaScript's <c>Date.prototype.toISOString()</c> does
/// (<c>2025-12-01T10:00:00.123Z</c>): UTC, milliseconds, a <c>Z</c>. The story's clients parse
/// that shape, and the default converter would write seven fractional digits and an offset.
/// Reading accepts any ISO-8601 date-time.
/// </summary>
internal sealed class UtcTimestampJsonConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<byte> utf8 = stackalloc byte[Format.Length];
        value.UtcDateTime.TryFormat(utf8, out var written, Format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(utf8[..written]);
    }
}
