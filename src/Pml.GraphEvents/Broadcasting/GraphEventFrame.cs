namespace Pml.GraphEvents;

/// <summary>
/// One event as a subscriber receives it: the typed <see cref="Event"/> for in-process readers,
/// and the complete Server-Sent Events frame in <see cref="Utf8Bytes"/> for anything that writes
/// to a socket. A broadcast frame is encoded once and the same instance is handed to every
/// subscriber; treat it as immutable.
/// </summary>
public sealed class GraphEventFrame
{
    private readonly byte[] _utf8;
    private readonly EventIdPrefix? _idPrefix;
    private readonly int _dataStart;
    private string? _id;

    private GraphEventFrame(EventIdPrefix? id, long offset, GraphEvent @event, GraphEventKind kind, byte[] utf8, int dataStart)
    {
        _idPrefix = id;
        Offset = id is null ? 0 : offset;
        Event = @event;
        Kind = kind;
        _utf8 = utf8;
        _dataStart = dataStart;
    }

    /// <summary>Creates a frame for one of the library's events, encoded once; without an <c>id:</c> line when <paramref name="id"/> is <see langword="null"/>.</summary>
    internal static GraphEventFrame Create(EventIdPrefix? id, long offset, GraphEvent @event, long dispatchTimestamp = 0) =>
        Create(id, offset, @event, BuiltInEventContracts.Of(@event), dispatchTimestamp);

    /// <summary>Creates a frame without an <c>id:</c> line (a notice addressed to one subscriber, a heartbeat).</summary>
    internal static GraphEventFrame Create(GraphEvent @event) => Create(null, 0, @event);

    /// <summary>Creates a frame for <paramref name="event"/>, of <paramref name="contract"/>'s type, encoded once.</summary>
    internal static GraphEventFrame Create(EventIdPrefix? id, long offset, GraphEvent @event, GraphEventContract contract, long dispatchTimestamp = 0)
    {
        var utf8 = SseFrameEncoder.Encode(id, offset, @event, contract, out var dataStart);
        return new(id, offset, @event, contract.Kind, utf8, dataStart) { DispatchTimestamp = dispatchTimestamp };
    }

    /// <summary>
    /// Creates a frame for <paramref name="event"/> around its already encoded <paramref name="data"/>
    /// JSON (what the publish-time size check measured, or what a log held), so that the event is
    /// not encoded again.
    /// </summary>
    internal static GraphEventFrame Create(EventIdPrefix? id, long offset, GraphEvent @event, GraphEventContract contract, ReadOnlySpan<byte> data, long dispatchTimestamp)
    {
        var utf8 = SseFrameEncoder.Encode(id, offset, @event, contract, data, out var dataStart);
        return new(id, offset, @event, contract.Kind, utf8, dataStart) { DispatchTimestamp = dispatchTimestamp };
    }

    /// <summary>
    /// The SSE <c>id:</c> of this frame, or <see langword="null"/> for frames that carry none
    /// (heartbeats and loss notices, so that they never move a client's Last-Event-ID). An opaque
    /// string (<c>&lt;epoch&gt;-&lt;offset&gt;</c> today): compare ids for equality, keep the last
    /// one to resume from, and assume nothing else about them.
    /// </summary>
    public string? Id => _idPrefix is null ? null : _id ??= _idPrefix.Format(Offset);

    /// <summary>The SSE event name: one of <see cref="GraphEventTypes"/>, or a registered name of a host's type.</summary>
    public string EventType => Event.EventType;

    /// <summary>The event itself.</summary>
    public GraphEvent Event { get; }

    /// <summary>
    /// The whole frame as UTF-8: the <c>id:</c> (when present), <c>event:</c> and <c>data:</c>
    /// lines and the blank line that ends it. Write it to a stream as it is.
    /// </summary>
    public ReadOnlyMemory<byte> Utf8Bytes => _utf8;

    /// <summary>The frame's place in its log (the offset its id carries), or 0 when it has no id.</summary>
    internal long Offset { get; }

    /// <summary>The epoch its id carries, or <see langword="null"/> when it has no id.</summary>
    internal string? Epoch => _idPrefix?.Epoch;

    /// <summary>The frame's data JSON, as the event log keeps it.</summary>
    internal ReadOnlyMemory<byte> Data => _utf8.AsMemory(_dataStart, _utf8.Length - _dataStart - 2);

    /// <summary>The filter bit of the event's type, from its contract (a host's types have theirs per broadcaster).</summary>
    internal GraphEventKind Kind { get; }

    /// <summary>The frame's size in bytes, what the replay window and subscriber buffers count.</summary>
    internal int Length => _utf8.Length;

    /// <summary>
    /// The broadcaster's <see cref="TimeProvider.GetTimestamp"/> when the pump dispatched this
    /// frame, or 0 for frames addressed to one subscriber. A field on the shared frame, set once
    /// before the frame is handed out, so measuring publish-to-write latency costs no
    /// per-subscriber allocation.
    /// </summary>
    internal long DispatchTimestamp { get; init; }
}
