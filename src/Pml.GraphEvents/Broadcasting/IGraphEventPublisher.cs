namespace Pml.GraphEvents;

/// <summary>Publishes graph events to every subscriber. Thread-safe.</summary>
public interface IGraphEventPublisher
{
    /// <summary>
    /// Queues <paramref name="graphEvent"/> for broadcast without waiting. Its cost does not depend on
    /// the number of subscribers. An event of a host's own type is encoded here, once (it has no
    /// cheap size bound), and those bytes are what every subscriber gets.
    /// </summary>
    /// <returns><see langword="false"/> when the ingress queue is full (the event is not published).</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="graphEvent"/> cannot be broadcast; the message names its type and why: a type only
    /// the broadcaster creates (<c>connected</c> and <c>events_lost</c>, addressed to one subscriber, or
    /// <c>heartbeat</c>, its keep-alive); a host's type not registered in
    /// <see cref="IGraphEventSubscriber.CustomEventTypes"/>, or whose <see cref="GraphEvent.EventType"/> is not
    /// its registered name; a number JSON cannot carry; a frame over <see cref="GraphEventsOptions.MaxEventBytes"/>.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    bool TryPublish(GraphEvent graphEvent);

    /// <summary>
    /// Queues <paramref name="graphEvent"/> for broadcast, waiting only while the ingress queue is full
    /// (that is, for the broadcaster's pump, never for a subscriber).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="graphEvent"/> cannot be broadcast; the message names its type and why: a type only
    /// the broadcaster creates (<c>connected</c> and <c>events_lost</c>, addressed to one subscriber, or
    /// <c>heartbeat</c>, its keep-alive); a host's type not registered in
    /// <see cref="IGraphEventSubscriber.CustomEventTypes"/>, or whose <see cref="GraphEvent.EventType"/> is not
    /// its registered name; a number JSON cannot carry; a frame over <see cref="GraphEventsOptions.MaxEventBytes"/>.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken = default);
}
