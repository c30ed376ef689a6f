namespace Pml.GraphEvents;

/// <summary>Publishes graph events to every subscriber. Thread-safe.</summary>
public interface IGraphEventPublisher
{
    /// <summary>
    /// Queues <paramref name="graphEvent"/> for broadcast without waiting. Its cost does not depend on
    /// the number of subscribers.
    /// </summary>
    /// <returns><see langword="false"/> when the ingress queue is full (the event is not published).</returns>
    /// <exception cref="ArgumentException"><paramref name="graphEvent"/> is a type only the broadcaster creates: <c>connected</c> and <c>events_lost</c> (addressed to one subscriber) or <c>heartbeat</c> (its keep-alive); the message names the type.</exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    bool TryPublish(GraphEvent graphEvent);

    /// <summary>
    /// Queues <paramref name="graphEvent"/> for broadcast, waiting only while the ingress queue is full
    /// (that is, for the broadcaster's pump, never for a subscriber).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="graphEvent"/> is a type only the broadcaster creates: <c>connected</c> and <c>events_lost</c> (addressed to one subscriber) or <c>heartbeat</c> (its keep-alive); the message names the type.</exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken = default);
}
