using System.Text;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// The packing of one append's events into a row of <c>event_log</c> (format 1): <c>sizes</c> is a
/// byte 1 then each event's data size, and <c>events</c> each event's type then its data, in offset
/// order from the row's <c>first_offset</c>. Sizes and lengths are unsigned LEB128 varints (7 bits a
/// byte, low first); types are UTF-8.
/// </summary>
/// <remarks>
/// The sizes are a column of their own, ahead of the events, so that opening the log reads what
/// retention needs (each event's size) from the start of each row without its data.
/// </remarks>
internal sealed class SqliteEventBatch
{
    private const byte Format = 1;

    // The types' UTF-8, encoded once each: a log has a handful of event types, and every event names one.
    private readonly Dictionary<string, byte[]> _types = new(StringComparer.Ordinal);
    private byte[] _sizes = new byte[256];
    private byte[] _events = new byte[16 * 1024];

    /// <summary>The sizes packed by the last <see cref="Pack"/>.</summary>
    public ReadOnlySpan<byte> Sizes => _sizes.AsSpan(0, SizesLength);

    /// <summary>The events packed by the last <see cref="Pack"/>.</summary>
    public ReadOnlySpan<byte> Events => _events.AsSpan(0, EventsLength);

    private int SizesLength { get; set; }

    private int EventsLength { get; set; }

    /// <summary>Packs <paramref name="records"/> from <paramref name="from"/> on into <see cref="Sizes"/> and <see cref="Events"/> (buffers reused by the next call).</summary>
    public void Pack(IReadOnlyList<EventLogRecord> records, int from)
    {
        var sizesNeeded = 1;
        var eventsNeeded = 0;
        for (var i = from; i < records.Count; i++)
        {
            var type = Type(records[i].EventType);
            sizesNeeded += 5;
            eventsNeeded += 5 + type.Length + records[i].Data.Length;
        }

        Grow(ref _sizes, sizesNeeded);
        Grow(ref _events, eventsNeeded);
        var sizes = _sizes.AsSpan();
        var events = _events.AsSpan();
        sizes[0] = Format;
        var s = 1;
        var e = 0;
        for (var i = from; i < records.Count; i++)
        {
            var data = records[i].Data.Span;
            var type = Type(records[i].EventType);
            s += SqliteVarint.Write(sizes[s..], (uint)data.Length);
            e += SqliteVarint.Write(events[e..], (uint)type.Length);
            type.CopyTo(events[e..]);
            e += type.Length;
            data.CopyTo(events[e..]);
            e += data.Length;
        }

        SizesLength = s;
        EventsLength = e;
    }

    /// <summary>Adds each event's data size in <paramref name="sizes"/> to <paramref name="into"/>; false when the column is not of this format.</summary>
    public static bool TryReadSizes(ReadOnlySpan<byte> sizes, List<int> into)
    {
        if (sizes.IsEmpty || sizes[0] != Format)
        {
            return false;
        }

        var at = 1;
        while (at < sizes.Length)
        {
            if (!SqliteVarint.TryReadInt(sizes, ref at, out var size))
            {
                return false;
            }

            into.Add(size);
        }

        return true;
    }

    /// <summary>
    /// Adds to <paramref name="into"/> the events of the row at <paramref name="firstOffset"/> with
    /// <paramref name="after"/> &lt; offset ≤ <paramref name="through"/>, until it holds
    /// <paramref name="maxCount"/>; each record owns a copy of its data. False when the row is not of
    /// this format or is torn.
    /// </summary>
    public static bool TryRead(long firstOffset, ReadOnlySpan<byte> sizes, ReadOnlySpan<byte> events, long after, long through, int maxCount, List<EventLogRecord> into)
    {
        if (sizes.IsEmpty || sizes[0] != Format)
        {
            return false;
        }

        var s = 1;
        var e = 0;
        string? lastType = null;
        ReadOnlySpan<byte> lastTypeBytes = default;
        for (var offset = firstOffset; s < sizes.Length && offset <= through && into.Count < maxCount; offset++)
        {
            if (!SqliteVarint.TryReadInt(sizes, ref s, out var size) || !SqliteVarint.TryReadInt(events, ref e, out var typeLength) || events.Length - e < typeLength || events.Length - e - typeLength < size)
            {
                return false;
            }

            var typeBytes = events.Slice(e, typeLength);
            e += typeLength;
            if (offset > after)
            {
                // Consecutive events often share their type: one string for a run of them.
                if (lastType is null || !typeBytes.SequenceEqual(lastTypeBytes))
                {
                    lastType = Encoding.UTF8.GetString(typeBytes);
                    lastTypeBytes = typeBytes;
                }

                into.Add(new EventLogRecord(offset, lastType, events.Slice(e, size).ToArray()));
            }

            e += size;
        }

        return true;
    }

    private byte[] Type(string eventType)
    {
        if (_types.TryGetValue(eventType, out var bytes))
        {
            return bytes;
        }

        bytes = Encoding.UTF8.GetBytes(eventType);

        // Bounded: a host with endless custom types pays an encoding per event beyond these.
        if (_types.Count < 1024)
        {
            _types.Add(eventType, bytes);
        }

        return bytes;
    }

    private static void Grow(ref byte[] buffer, int needed)
    {
        if (buffer.Length < needed)
        {
            buffer = new byte[Math.Max(needed, buffer.Length * 2)];
        }
    }

}
