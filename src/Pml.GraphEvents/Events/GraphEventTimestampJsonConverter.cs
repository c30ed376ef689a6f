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
    /// <summary>The length of every timestamp written: <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>.</summary>
    internal const int Length = 24;

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> utf8 = stackalloc byte[Length];
        Format(utf8, value);
        writer.WriteStringValue(utf8);
    }

    /// <summary>Writes <paramref name="value"/> as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> (UTC) into the first <see cref="Length"/> bytes of <paramref name="utf8"/>.</summary>
    internal static void Format(Span<byte> utf8, DateTimeOffset value)
    {
        // Every event carries one, so it is written digit by digit: a custom format string goes
        // through DateTimeFormat's general parser each time, several times slower (issue 16's profile).
        var utc = value.UtcDateTime;
        Digits(utf8[..4], utc.Year);
        utf8[4] = (byte)'-';
        Digits(utf8.Slice(5, 2), utc.Month);
        utf8[7] = (byte)'-';
        Digits(utf8.Slice(8, 2), utc.Day);
        utf8[10] = (byte)'T';
        Digits(utf8.Slice(11, 2), utc.Hour);
        utf8[13] = (byte)':';
        Digits(utf8.Slice(14, 2), utc.Minute);
        utf8[16] = (byte)':';
        Digits(utf8.Slice(17, 2), utc.Second);
        utf8[19] = (byte)'.';
        Digits(utf8.Slice(20, 3), utc.Millisecond);
        utf8[23] = (byte)'Z';
    }

    /// <summary>Writes <paramref name="value"/> in exactly <c>destination.Length</c> decimal digits, zero-padded.</summary>
    private static void Digits(Span<byte> destination, int value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            (value, var digit) = Math.DivRem(value, 10);
            destination[i] = (byte)('0' + digit);
        }
    }
}
