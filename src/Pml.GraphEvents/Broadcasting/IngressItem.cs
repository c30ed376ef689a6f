namespace Pml.GraphEvents;

/// <summary>
/// An event waiting for the pump (or for a backplane's log), with its type's contract (resolved
/// once, at publish or when the backplane read it), the offset a backplane gave it (0: the pump
/// numbers it), and its data JSON when the publish-time size check had to encode it
/// (<see langword="null"/> otherwise). An item with a <see cref="Commit"/> carries a block of
/// events instead, which the pump logs and delivers together or not at all.
/// </summary>
internal readonly record struct IngressItem(GraphEvent Event, GraphEventContract Contract, long Id, byte[]? Data)
{
    /// <summary>A block of events committed together (see <see cref="Broadcaster.CommitAsync"/>), or <see langword="null"/> for one published event.</summary>
    public LogCommit? Commit { get; init; }

    /// <summary>
    /// A break in a shared log this host reads (see <see cref="Broadcaster.ResetSharedLogAsync"/> and
    /// <see cref="Broadcaster.ReportSharedLogGapAsync"/>), or <see langword="null"/>: the pump then
    /// empties the ring (and switches ids to a new log's epoch) and delivers this item's
    /// <c>events_lost</c> to every subscriber.
    /// </summary>
    public SharedLogBreak? Break { get; init; }
}
