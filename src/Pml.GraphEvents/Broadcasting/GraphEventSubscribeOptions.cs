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
    /// The event types to receive (names from <see cref="GraphEventTypes"/>), or <see langword="null"/>
    /// for all. <c>connected</c>, <c>heartbeat</c> and <c>events_lost</c> are always delivered.
    /// </summary>
    public IReadOnlyCollection<string>? EventTypes { get; init; }
}
