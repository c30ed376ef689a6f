namespace Pml.GraphEvents;

/// <summary>
/// Thrown by <see cref="IGraphEventSubscriber.Subscribe"/> when
/// <see cref="IGraphEventSubscriber.MaxSubscribers"/> subscriptions are live. A caller that answers
/// the limit as an ordinary outcome calls <see cref="IGraphEventSubscriber.TrySubscribe(GraphEventSubscribeOptions?, out GraphEventSubscription?)"/> instead.
/// </summary>
public sealed class GraphEventSubscriberLimitException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public GraphEventSubscriberLimitException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public GraphEventSubscriberLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public GraphEventSubscriberLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a broadcaster whose limit is <paramref name="maxSubscribers"/>; the message names the option.</summary>
    /// <param name="maxSubscribers">The subscriber limit that was reached.</param>
    public GraphEventSubscriberLimitException(int maxSubscribers)
        : base($"The subscriber limit is reached: {maxSubscribers:N0} subscriptions are live ({GraphEventsOptions.SectionName}:{nameof(GraphEventsOptions.MaxSubscribers)}).")
    {
        MaxSubscribers = maxSubscribers;
    }

    /// <summary>The subscriber limit that was reached (0 when the exception was created without one).</summary>
    public int MaxSubscribers { get; }
}
