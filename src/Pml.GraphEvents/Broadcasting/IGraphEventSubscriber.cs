namespace Pml.GraphEvents;

/// <summary>Hands out subscriptions to the broadcast. Thread-safe.</summary>
public interface IGraphEventSubscriber
{
    /// <summary>Subscribers connected now.</summary>
    int SubscriberCount { get; }

    /// <summary>
    /// Starts a subscription whose first frame is <c>connected</c>. Refused (not thrown) when
    /// <see cref="GraphEventsOptions.MaxSubscribers"/> subscriptions are live.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="GraphEventSubscribeOptions.EventTypes"/> names an unknown event type.</exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    SubscribeResult Subscribe(GraphEventSubscribeOptions? options = null);
}
