namespace Pml.GraphEvents;

/// <summary>
/// Cheap upper bounds of an event's encoded size, computed from string lengths without encoding,
/// so that the publish-time size check costs a few additions for an ordinary event and encodes
/// only an event that may really be too large. The bounds know the library's own types (their
/// fields and wire names); a host's type has none and is measured by encoding it.
/// </summary>
internal static class EncodedSize
{
    /// <summary>The longest <c>id:</c> line: <c>"id: "</c>, the log's epoch and <c>'-'</c>, the 19 digits of <see cref="long.MaxValue"/>, <c>"\n"</c>.</summary>
    public const int LongestIdLine = 4 + GraphEventId.MaxLength + 1;

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

    /// <summary>An upper bound of a <c>connected</c> event's data JSON.</summary>
    public static long Data(ConnectedEvent e) => Braces + (3 * Field) + String(e.ClientId) + Number + Timestamp;

    /// <summary>An upper bound of a <c>graph_synced</c> event's data JSON.</summary>
    public static long Data(GraphSyncedEvent e) => Braces + (4 * Field) + (3 * Number) + Timestamp;

    /// <summary>An upper bound of an <c>edge_created</c> event's data JSON.</summary>
    public static long Data(EdgeCreatedEvent e) => Braces + (4 * Field) + String(e.FromToolId) + String(e.ToToolId) + Number + Timestamp;

    /// <summary>An upper bound of an <c>edge_updated</c> event's data JSON.</summary>
    public static long Data(EdgeUpdatedEvent e) => Braces + (6 * Field) + String(e.FromToolId) + String(e.ToToolId) + (3 * Number) + Timestamp;

    /// <summary>An upper bound of a <c>workflow_executed</c> event's data JSON.</summary>
    public static long Data(WorkflowExecutedEvent e) => Braces + (5 * Field) + String(e.WorkflowId) + Strings(e.ToolIds) + (2 * Number) + Timestamp;

    /// <summary>An upper bound of a <c>metrics_updated</c> event's data JSON.</summary>
    public static long Data(MetricsUpdatedEvent e)
    {
        long bound = Braces + (6 * Field) + (4 * Number) + Timestamp;
        if (e.PageRankTop10 is { } top)
        {
            for (var i = 0; i < top.Count; i++)
            {
                // {"tool_id":...,"score":...}, and the comma after it.
                bound += Braces + (2 * Field) + String(top[i]?.ToolId) + Number + 1;
            }
        }

        return bound;
    }

    /// <summary>An upper bound of a <c>heartbeat</c>'s data JSON.</summary>
    public static long Data(HeartbeatEvent e) => Braces + (4 * Field) + (3 * Number) + Timestamp;

    /// <summary>An upper bound of an <c>events_lost</c> event's data JSON.</summary>
    public static long Data(EventsLostEvent e) => Braces + (3 * Field) + String(e.Reason) + Number + Timestamp;

    /// <summary>The exact size of <paramref name="value"/> as a JSON string, quotes included, as the event serializer writes it.</summary>
    public static long ExactString(string value) => JsonEncodedText.Encode(value).EncodedUtf8Bytes.Length + 2;
}
