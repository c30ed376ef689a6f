namespace Pml.GraphEvents;

/// <summary>How one subscription starts and what it receives.</summary>
public sealed class GraphEventSubscribeOptions
{
    /// <summary>
    /// The id of the last event this subscriber already has (an SSE client's Last-Event-ID).
    /// Events after it that the replay window still holds are delivered first; when it is older
    /// than the window, or unknown, an <see cref="EventsLostEvent"/> says so. <see langword="null"/>: live events only.
    /// </summary>
    public long? LastEventId { get; init; }

    /// <summary>
    /// Set when the subscriber gave a resume position that cannot be read as one id: an SSE
    /// <c>Last-Event-ID</c> that is not a non-negative 64-bit integer, or two of them. Nothing can be
    /// replayed from it, so the subscription starts with live events, as without
    /// <see cref="LastEventId"/>, but an <see cref="EventsLostEvent"/>
    /// (<see cref="EventsLostReasons.InvalidLastEventId"/>, count unknown) follows <c>connected</c>:
    /// the client is told that it did not resume, rather than left to believe it did. Ignored when
    /// <see cref="LastEventId"/> is set.
    /// </summary>
    public bool LastEventIdInvalid { get; init; }

    /// <summary>
    /// The event types to receive (names from <see cref="GraphEventTypes"/>, or registered in the
    /// broadcaster's <see cref="IGraphEventSubscriber.CustomEventTypes"/>), or <see langword="null"/>
    /// for all. <c>connected</c>, <c>heartbeat</c> and <c>events_lost</c> are always delivered.
    /// </summary>
    public IReadOnlyCollection<string>? EventTypes { get; init; }
}
