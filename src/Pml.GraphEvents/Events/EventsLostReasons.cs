namespace Pml.GraphEvents;

/// <summary>The values of <see cref="EventsLostEvent.Reason"/>.</summary>
public static class EventsLostReasons
{
    /// <summary>The last event id given on resume is older than the replay window.</summary>
    public const string ReplayWindowExceeded = "replay_window_exceeded";

    /// <summary>
    /// The last event id given on resume was not issued by this log: another server's, a log that was
    /// deleted or lost, an id ahead of the log, or not an id at all. Nothing can be replayed from it;
    /// the client starts with live events and should reload its state.
    /// </summary>
    public const string UnknownLastEventId = "unknown_last_event_id";

    /// <summary>The subscriber read too slowly and its oldest frames were dropped.</summary>
    public const string BufferOverflow = "buffer_overflow";

    /// <summary>
    /// The log this stream came from was lost and replaced by a new one (a Redis restarted without
    /// its data): events may be missing and earlier ids are not valid any more. Sent to every
    /// connected client; the client should reload its state (<c>GET /graph</c>) and go on reading.
    /// </summary>
    public const string LogReset = "log_reset";

}
