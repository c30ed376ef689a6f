namespace Pml.GraphEvents;

/// <summary>
/// An append-only log of broadcast events (DESIGN §7): each record is one event's type and data
/// JSON at an offset; the log has an <see cref="EventLogState.Epoch"/>, made at random when the
/// log is created and kept with it, which every event id carries, so that an id from another log is
/// recognised. The broadcaster's pump is its only writer: it appends what it drained, in one call,
/// before it delivers any of it, so what a client saw can always be replayed. Readers (resuming
/// subscribers) call <see cref="Read"/> from any thread while the pump appends.
/// </summary>
/// <remarks>
/// Internal: the logs ship with this library (the broadcaster's in-memory window, and the SQLite
/// log of Pml.GraphEvents.Sqlite), versioned with it.
/// </remarks>
internal interface IGraphEventLog
{
    /// <summary>
    /// Opens the log (creating it, with a new epoch, when it does not exist) and returns where it
    /// stands. Called once, by the broadcaster that appends to it, before anything else.
    /// </summary>
    /// <exception cref="ToolGraphStoreException">The log cannot be opened.</exception>
    EventLogState Open();

    /// <summary>
    /// Appends <paramref name="records"/> (consecutive offsets, the first one after the last appended)
    /// and stores <paramref name="attachments"/> (each one <see cref="Writes"/> accepted) in the same
    /// atomic write: after a crash, all of it is in the log, or none of it. Then applies retention.
    /// <paramref name="records"/> may be empty when there are attachments.
    /// </summary>
    /// <returns>Where the log stands after the append and its retention.</returns>
    /// <exception cref="ToolGraphStoreException">Nothing was written.</exception>
    EventLogState Append(IReadOnlyList<EventLogRecord> records, IReadOnlyList<object> attachments);

    /// <summary>
    /// The records with <paramref name="afterOffset"/> &lt; offset ≤ <paramref name="throughOffset"/>,
    /// in order, at most <paramref name="maxCount"/>: the oldest of them first. Records retention has
    /// removed are not returned (the caller compares with the state's floor).
    /// </summary>
    /// <exception cref="ToolGraphStoreException">The log cannot be read.</exception>
    IReadOnlyList<EventLogRecord> Read(long afterOffset, long throughOffset, int maxCount);

    /// <summary>Where the log stands now: retention may have moved its floor since the last append returned.</summary>
    EventLogState State { get; }

    /// <summary>
    /// Whether <see cref="Append"/> can store <paramref name="attachment"/> in its atomic write: a
    /// graph change for the store this log shares its file with (the SQLite log and store).
    /// </summary>
    bool Writes(object attachment);
}
