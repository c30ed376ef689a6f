namespace Pml.GraphEvents.Tests.TestSupport;

/// <summary>
/// Ids are opaque strings to clients (<c>&lt;epoch&gt;-&lt;offset&gt;</c>); tests that check their
/// order or count read the offset back, and make ids of a broadcaster's log at a given offset.
/// </summary>
internal static class EventIdTesting
{
    /// <summary>The offset an id carries; fails the test for anything that is not an id.</summary>
    public static long Offset(string? id)
    {
        Assert.NotNull(id);
        Assert.True(GraphEventId.TryParse(id, out _, out var offset), $"'{id}' is not an event id.");
        return offset;
    }

    /// <summary>The offset of a frame's id (0 for a frame without one).</summary>
    public static long OffsetOf(GraphEventFrame frame) => frame.Id is null ? 0 : Offset(frame.Id);

    /// <summary>The offset of the last event the broadcaster issued (0 before the first).</summary>
    public static long LastOffset(this IGraphEventBroadcaster broadcaster) =>
        broadcaster.GetStatistics().LastEventId is { } id ? Offset(id) : 0;

    /// <summary>The epoch of the log whose ids <paramref name="broadcaster"/> issues.</summary>
    public static string EpochOf(IGraphEventBroadcaster broadcaster) => ((Broadcaster)broadcaster).Epoch;

    /// <summary>The id of the event at <paramref name="offset"/> in <paramref name="broadcaster"/>'s log.</summary>
    public static string IdAt(this IGraphEventBroadcaster broadcaster, long offset) => GraphEventId.Format(EpochOf(broadcaster), offset);
}
