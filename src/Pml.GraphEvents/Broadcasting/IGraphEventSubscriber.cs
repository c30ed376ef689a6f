using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents;

/// <summary>Hands out subscriptions to the broadcast. Thread-safe.</summary>
public interface IGraphEventSubscriber
{
    /// <summary>Subscribers connected now.</summary>
    int SubscriberCount { get; }

    /// <summary>
    /// The most subscriptions that can be live at once (<see cref="GraphEventsOptions.MaxSubscribers"/>);
    /// fixed for the broadcaster's life, so it is what a refusal reports (the <c>max</c> of a 503 answer).
    /// </summary>
    int MaxSubscribers { get; }

    /// <summary>
    /// The host's own event types this broadcaster delivers besides the library's
    /// (<see cref="GraphEventsOptions.CustomEventTypes"/>), frozen: the names
    /// <see cref="GraphEventSubscribeOptions.EventTypes"/> may use beyond <see cref="GraphEventTypes"/>.
    /// </summary>
    GraphEventTypeRegistry CustomEventTypes { get; }

    /// <summary>
    /// Starts a subscription to every event type, with live events only, unless
    /// <see cref="MaxSubscribers"/> subscriptions are live.
    /// </summary>
    /// <param name="subscription">The new subscription, whose first frame is <c>connected</c>; <see langword="null"/> when refused.</param>
    /// <returns><see langword="false"/> at the subscriber limit: nothing was allocated, and the refusal is counted.</returns>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    bool TrySubscribe([NotNullWhen(true)] out GraphEventSubscription? subscription);

    /// <summary>
    /// Starts a subscription as <paramref name="options"/> say, unless <see cref="MaxSubscribers"/>
    /// subscriptions are live. Being full is an ordinary state under load: this is the call for a
    /// caller that answers it (an HTTP endpoint's 503).
    /// </summary>
    /// <param name="options">Where it resumes and what it receives; live events of every type when <see langword="null"/>.</param>
    /// <param name="subscription">The new subscription, whose first frame is <c>connected</c>; <see langword="null"/> when refused.</param>
    /// <returns><see langword="false"/> at the subscriber limit: nothing was allocated, and the refusal is counted.</returns>
    /// <exception cref="ArgumentException"><see cref="GraphEventSubscribeOptions.EventTypes"/> names a type that is neither one of <see cref="GraphEventTypes"/> nor in <see cref="CustomEventTypes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    bool TrySubscribe(GraphEventSubscribeOptions? options, [NotNullWhen(true)] out GraphEventSubscription? subscription);

    /// <summary>
    /// Starts a subscription whose first frame is <c>connected</c>, for a caller that does not
    /// expect to meet the limit (an in-process consumer, a test).
    /// </summary>
    /// <param name="options">Where it resumes and what it receives; live events of every type when <see langword="null"/>.</param>
    /// <exception cref="GraphEventSubscriberLimitException"><see cref="MaxSubscribers"/> subscriptions are live (the refusal is counted).</exception>
    /// <exception cref="ArgumentException"><see cref="GraphEventSubscribeOptions.EventTypes"/> names a type that is neither one of <see cref="GraphEventTypes"/> nor in <see cref="CustomEventTypes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The broadcaster was disposed.</exception>
    GraphEventSubscription Subscribe(GraphEventSubscribeOptions? options = null);
}
