namespace Pml.GraphEvents;

/// <summary>How one subscription starts and what it receives.</summary>
public sealed class GraphEventSubscribeOptions
{
    /// <summary>
    /// The id of the last event this subscriber already has (an SSE client's Last-Event-ID), as the
    /// broadcaster issued it: an opaque string. Events after it that the log still holds are
    /// delivered first. When some are no longer held, an <see cref="EventsLostEvent"/>
    /// (<see cref="EventsLostReasons.ReplayWindowExceeded"/>, with the count) comes first; when the
    /// id is not one of this log's (another server's, a log that was lost, a malformed or future
    /// id), an <see cref="EventsLostEvent"/> (<see cref="EventsLostReasons.UnknownLastEventId"/>)
    /// follows <c>connected</c> and live events follow it. <see langword="null"/>: live events only.
    /// </summary>
    public string? LastEventId { get; init; }

    /// <summary>
    /// The event types to receive (names from <see cref="GraphEventTypes"/>, or registered in the
    /// broadcaster's <see cref="IGraphEventSubscriber.CustomEventTypes"/>), or <see langword="null"/>
    /// for all. <c>connected</c>, <c>heartbeat</c> and <c>events_lost</c> are always delivered.
    /// </summary>
    public IReadOnlyCollection<string>? EventTypes { get; init; }
}
