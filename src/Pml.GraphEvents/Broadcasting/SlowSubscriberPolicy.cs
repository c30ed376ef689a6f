namespace Pml.GraphEvents;

/// <summary>What the broadcaster does when a subscriber's buffer is full.</summary>
public enum SlowSubscriberPolicy
{
    /// <summary>
    /// End that subscription with <see cref="SubscriptionEndReason.Lagging"/> after it has read
    /// what its buffer holds. An SSE client then reconnects with Last-Event-ID and replays the
    /// rest from the replay window. No subscriber ever sees a gap without being told.
    /// </summary>
    Disconnect = 0,

    /// <summary>
    /// Keep the subscription, discard its oldest buffered frames, and send it an
    /// <see cref="EventsLostEvent"/> with the exact count before its next frame.
    /// </summary>
    DropOldest = 1,
}
