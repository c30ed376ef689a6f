using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Pml.GraphEvents;

/// <summary>
/// Encodes Server-Sent Events frames (https://html.spec.whatwg.org/multipage/server-sent-events.html).
/// Frames are built in a reusable per-thread buffer and copied once into an exact-size array, so
/// encoding a broadcast event costs one allocation whatever the number of subscribers. Bytes only:
/// the broadcaster wraps them in a <see cref="GraphEventFrame"/> (<c>GraphEventFrame.Create</c>), so
/// that this wire encoding depends on the events and nothing above them.
/// </summary>
/// <remarks>
/// Nothing user-supplied reaches a field name: the <c>event:</c> line comes from the type's contract
/// (a fixed <see cref="GraphEventTypes"/> name, or a host's name validated at registration), ids are
/// numbers, and the <c>data:</c> value is compact JSON, in which the serializer escapes every CR and
/// LF (a host's type is also checked for raw line breaks at publish). So a hostile tool id can never
/// end a line or start a new field.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One instance per thread for the thread's lifetime; its writer holds no unmanaged resource.")]
internal sealed class SseFrameEncoder
{
    // A thread keeps its buffer for the next frame, but not one grown by a rare large event:
    // past this, the encoder is let go, so an idle pump does not pin a megabyte per thread.
    private const int RetainedBufferBytes = 64 * 1024;

    [ThreadStatic]
    private static SseFrameEncoder? _threadEncoder;

    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json;

    private SseFrameEncoder() => _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

    /// <summary>Encodes one of the library's events as a frame with an optional <c>id:</c> line.</summary>
    public static byte[] Encode(EventIdPrefix? id, long offset, GraphEvent @event) => Encode(id, offset, @event, BuiltInEventContracts.Of(@event), out _);

    /// <summary>
    /// Encodes <paramref name="event"/>, of <paramref name="contract"/>'s type, as a frame with an
    /// <c>id:</c> line when <paramref name="id"/> is given (<c>&lt;epoch&gt;-&lt;offset&gt;</c>);
    /// <paramref name="dataStart"/> is where its data JSON starts in the frame.
    /// </summary>
    public static byte[] Encode(EventIdPrefix? id, long offset, GraphEvent @event, GraphEventContract contract, out int dataStart)
    {
        // One encoder per thread: the pump encodes broadcast frames while subscribe calls on other
        // threads encode their own connected frames, and neither should lock or allocate a buffer.
        var encoder = _threadEncoder ??= new SseFrameEncoder();
        return Release(encoder, encoder.EncodeCore(id, offset, @event, contract, out dataStart));
    }

    private static byte[] Release(SseFrameEncoder encoder, byte[] bytes)
    {
        if (encoder._buffer.Capacity > RetainedBufferBytes)
        {
            _threadEncoder = null;
        }

        return bytes;
    }

    /// <summary>
    /// Encodes <paramref name="event"/> as a frame around its already encoded <paramref name="data"/>
    /// JSON (what the publish-time size check measured), so that the event is not encoded again.
    /// </summary>
    public static byte[] Encode(EventIdPrefix? id, long offset, GraphEvent @event, GraphEventContract contract, ReadOnlySpan<byte> data, out int dataStart)
    {
        var encoder = _threadEncoder ??= new SseFrameEncoder();
        return Release(encoder, encoder.EncodeCore(id, offset, @event, contract, out dataStart, data));
    }

    /// <summary>The data JSON of one of the library's events (see <see cref="EncodeData(GraphEvent, GraphEventContract)"/>).</summary>
    public static byte[] EncodeData(GraphEvent @event) => EncodeData(@event, BuiltInEventContracts.Of(@event));

    /// <summary>
    /// The data JSON of <paramref name="event"/>, exactly as a frame carries it, in the same
    /// per-thread buffer (for the size check of an event that may be too large, and of every
    /// event of a host's type).
    /// </summary>
    public static byte[] EncodeData(GraphEvent @event, GraphEventContract contract)
    {
        var encoder = _threadEncoder ??= new SseFrameEncoder();
        encoder._buffer.ResetWrittenCount();
        encoder.WriteJson(@event, contract);
        return Release(encoder, encoder._buffer.WrittenSpan.ToArray());
    }

    private byte[] EncodeCore(EventIdPrefix? id, long offset, GraphEvent @event, GraphEventContract contract, out int dataStart, ReadOnlySpan<byte> data = default)
    {
        _buffer.ResetWrittenCount();
        if (id is not null)
        {
            // "id: <epoch>-" is the same for every event of a log: one copy, then the offset.
            Write(id.Utf8);
            WriteInt64(offset);
            Write("\n"u8);
        }

        // The contract's name, checked when the type was registered (or a library constant), never
        // the event's own text: "event: <name>\ndata: " in one copy.
        Write(contract.EventLine);
        dataStart = _buffer.WrittenCount;
        if (data.IsEmpty)
        {
            WriteJson(@event, contract);
        }
        else
        {
            Write(data);
        }

        Write("\n\n"u8);
        return _buffer.WrittenSpan.ToArray();
    }

    private void WriteJson(GraphEvent @event, GraphEventContract contract)
    {
        try
        {
            _json.Reset(_buffer);
            contract.WriteData(_json, @event);
            _json.Flush();
        }
        catch
        {
            // A failure mid-event leaves the writer with a partial object and its own state; reset
            // both so that the next event on this thread starts clean.
            _json.Reset(_buffer);
            _buffer.ResetWrittenCount();
            throw;
        }
    }

    /// <summary>Writes a <c>retry:</c> line that tells EventSource how long to wait before reconnecting; returns its length in bytes.</summary>
    public static int WriteRetry(IBufferWriter<byte> output, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(32);
        "retry: "u8.CopyTo(span);
        Utf8Formatter.TryFormat((long)delay.TotalMilliseconds, span[7..], out var digits);
        span[7 + digits] = (byte)'\n';
        output.Advance(8 + digits);
        return 8 + digits;
    }

    /// <summary>
    /// Writes <paramref name="text"/> as comment lines (<c>: text</c>), which every client ignores.
    /// A line break in the text starts another comment line, so a comment cannot become a field.
    /// </summary>
    public static void WriteComment(IBufferWriter<byte> output, string text)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(text);
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var span = output.GetSpan(3 + Encoding.UTF8.GetMaxByteCount(line.Length));
            span[0] = (byte)':';
            span[1] = (byte)' ';
            var written = Encoding.UTF8.GetBytes(line, span[2..]);
            span[2 + written] = (byte)'\n';
            output.Advance(3 + written);
        }
    }

    private void Write(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    private void WriteInt64(long value)
    {
        var span = _buffer.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        _buffer.Advance(written);
    }
}
