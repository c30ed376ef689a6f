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

}
