namespace Pml.GraphEvents;

/// <summary>The values of <see cref="EventsLostEvent.Reason"/>.</summary>
public static class EventsLostReasons
{
    /// <summary>The last event id given on resume is older than the replay window.</summary>
    public const string ReplayWindowExceeded = "replay_window_exceeded";

    /// <summary>The last event id given on resume was never issued by this stream (for example, the server restarted).</summary>
    public const string UnknownLastEventId = "unknown_last_event_id";

    /// <summary>The subscriber read too slowly and its oldest frames were dropped.</summary>
    public const string BufferOverflow = "buffer_overflow";

    /// <summary>
    /// The resume position given was not one id (a Last-Event-ID that is not a non-negative integer,
    /// or two of them): the subscriber starts with live events and cannot know what it missed.
    /// </summary>
    public const string InvalidLastEventId = "invalid_last_event_id";
}
