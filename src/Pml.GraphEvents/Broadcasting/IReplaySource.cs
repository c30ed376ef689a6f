namespace Pml.GraphEvents;

/// <summary>
/// Holds more of the broadcast than the replay ring: the durable event log, or a backplane's shared
/// stream. A resume older than the ring reads its older part from here, page by page, so that a
/// client resuming from far back holds one page in memory at a time, not the whole gap.
/// </summary>
internal interface IReplaySource
{
    /// <summary>
    /// The first page of events after <paramref name="afterOffset"/>, up to and including
    /// <paramref name="throughOffset"/>, that pass <paramref name="mask"/>, as frames. When the source
    /// no longer holds some of them, the page starts with an <c>events_lost</c> notice. Never throws
    /// (a failure is reported to the client as a loss, and ends the gap).
    /// </summary>
    Task<ReplayPage> FetchAsync(long afterOffset, long throughOffset, GraphEventKind mask);
}

/// <summary>One page of a resume's gap.</summary>
/// <param name="Frames">The frames to deliver, in order (possibly none, when the filter kept none).</param>
/// <param name="NextAfter">Where the next page starts: the gap is read when it reaches the <c>throughOffset</c> asked for.</param>
internal readonly record struct ReplayPage(GraphEventFrame[] Frames, long NextAfter);
