namespace Pml.GraphEvents;

/// <summary>
/// Cheap upper bounds of an event's encoded size, computed from string lengths without encoding,
/// so that the publish-time size check costs a few additions for an ordinary event and encodes
/// only an event that may really be too large.
/// </summary>
internal static class EncodedSize
{
    /// <summary>The longest <c>id:</c> line: <c>"id: "</c>, the 19 digits of <see cref="long.MaxValue"/>, <c>"\n"</c>.</summary>
    public const int LongestIdLine = 4 + 19 + 1;

    /// <summary>A number as JSON: a double's shortest round-trip form is at most 24 characters (<c>-1.2345678901234567E-308</c>).</summary>
    public const int Number = 32;

    /// <summary>A timestamp as JSON: 24 characters and two quotes.</summary>
    public const int Timestamp = 26;

    /// <summary>One property's name (the longest has 17 characters), its quotes, the colon and the comma.</summary>
    public const int Field = 24;

    /// <summary>The braces of an object and the brackets of a list, with slack.</summary>
    public const int Braces = 4;

    /// <summary>An upper bound of a frame whose <c>data</c> JSON is at most <paramref name="dataBound"/> bytes.</summary>
    public static long FrameBound(long dataBound) => LongestIdLine + "event: \n".Length + GraphEventTypes.LongestName + "data: \n\n".Length + dataBound;

    /// <summary>
    /// The size of a frame of <paramref name="eventType"/> whose <c>data</c> JSON has
    /// <paramref name="dataLength"/> bytes, counting its <c>id:</c> line at its longest, so that
    /// whether an event fits never depends on the id it happens to get.
    /// </summary>
    public static long Frame(string eventType, long dataLength) => LongestIdLine + "event: \n".Length + eventType.Length + "data: \n\n".Length + dataLength;

    /// <summary>
    /// An upper bound of a string as JSON. The writer escapes at most one UTF-16 unit into
    /// <c>\uXXXX</c> (6 bytes; a surrogate pair becomes two of them, and a lone surrogate the
    /// 6-byte escape of U+FFFD), plus the two quotes; <c>null</c> is 4 bytes.
    /// </summary>
    public static long String(string? value) => value is null ? 4 : (6L * value.Length) + 2;

    /// <summary>An upper bound of a list of strings as JSON.</summary>
    public static long Strings(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return 4;
        }

        long total = Braces;
        for (var i = 0; i < values.Count; i++)
        {
            total += String(values[i]) + 1;
        }

        return total;
    }

    /// <summary>The exact size of <paramref name="value"/> as a JSON string, quotes included, as the event serializer writes it.</summary>
    public static long ExactString(string value) => JsonEncodedText.Encode(value).EncodedUtf8Bytes.Length + 2;
}
