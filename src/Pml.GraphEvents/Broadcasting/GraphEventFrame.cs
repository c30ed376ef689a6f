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

    internal GraphEventFrame(long? id, GraphEvent @event, GraphEventKind kind, byte[] utf8)
    {
        Id = id;
        Event = @event;
        Kind = kind;
        _utf8 = utf8;
    }

    /// <summary>Creates a frame for one of the library's events, encoded once.</summary>
    internal static GraphEventFrame Create(long? id, GraphEvent @event, long dispatchTimestamp = 0) =>
        Create(id, @event, BuiltInEventContracts.Of(@event), dispatchTimestamp);

    /// <summary>Creates a frame for <paramref name="event"/>, of <paramref name="contract"/>'s type, encoded once.</summary>
    internal static GraphEventFrame Create(long? id, GraphEvent @event, GraphEventContract contract, long dispatchTimestamp = 0) =>
        new(id, @event, contract.Kind, SseFrameEncoder.Encode(id, @event, contract)) { DispatchTimestamp = dispatchTimestamp };

    /// <summary>
    /// Creates a frame for <paramref name="event"/> around its already encoded <paramref name="data"/>
    /// JSON (what the publish-time size check measured), so that the event is not encoded again.
    /// </summary>
    internal static GraphEventFrame Create(long? id, GraphEvent @event, GraphEventContract contract, ReadOnlySpan<byte> data, long dispatchTimestamp) =>
        new(id, @event, contract.Kind, SseFrameEncoder.Encode(id, @event, contract, data)) { DispatchTimestamp = dispatchTimestamp };

    /// <summary>
    /// The SSE <c>id:</c> of this frame, or <see langword="null"/> for frames that carry none
    /// (heartbeats and loss notices, so that they never move a client's Last-Event-ID).
    /// </summary>
    public long? Id { get; }

    /// <summary>The SSE event name: one of <see cref="GraphEventTypes"/>, or a registered name of a host's type.</summary>
    public string EventType => Event.EventType;

    /// <summary>The event itself.</summary>
    public GraphEvent Event { get; }

    /// <summary>
    /// The whole frame as UTF-8: the <c>id:</c> (when present), <c>event:</c> and <c>data:</c>
    /// lines and the blank line that ends it. Write it to a stream as it is.
    /// </summary>
    public ReadOnlyMemory<byte> Utf8Bytes => _utf8;

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
