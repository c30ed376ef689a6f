namespace Pml.GraphEvents;

/// <summary>
/// Counters of a broadcaster since it started, read with
/// <see cref="IGraphEventBroadcaster.GetStatistics"/>. Only the broadcaster creates them (its
/// constructor is internal, and the properties have no public setters, so <c>with</c> cannot forge one
/// either); <see langword="default"/> is all zeros.
/// </summary>
public readonly record struct GraphEventBroadcasterStatistics
{
    internal GraphEventBroadcasterStatistics(
        int subscriberCount,
        string? lastEventId,
        long eventsPublished,
        long framesDelivered,
        long subscribersEvicted,
        long framesDropped,
        long subscribesRefused,
        long publishesRejected,
        long eventsFailed)
    {
        SubscriberCount = subscriberCount;
        LastEventId = lastEventId;
        EventsPublished = eventsPublished;
        FramesDelivered = framesDelivered;
        SubscribersEvicted = subscribersEvicted;
        FramesDropped = framesDropped;
        SubscribesRefused = subscribesRefused;
        PublishesRejected = publishesRejected;
        EventsFailed = eventsFailed;
    }

    /// <summary>Subscribers connected now.</summary>
    public int SubscriberCount { get; internal init; }

    /// <summary>The id of the last event in the broadcaster's log (<see langword="null"/> before the first), as clients see it.</summary>
    public string? LastEventId { get; internal init; }

    /// <summary>Events the pump has broadcast, heartbeats included.</summary>
    public long EventsPublished { get; internal init; }

    /// <summary>Frames handed to subscriber buffers.</summary>
    public long FramesDelivered { get; internal init; }

    /// <summary>Subscriptions ended because they lagged.</summary>
    public long SubscribersEvicted { get; internal init; }

    /// <summary>Frames discarded by the drop-oldest policy.</summary>
    public long FramesDropped { get; internal init; }

    /// <summary>Subscribes refused at the subscriber limit (by <c>TrySubscribe</c> and <c>Subscribe</c> alike).</summary>
    public long SubscribesRefused { get; internal init; }

    /// <summary>Events refused by <c>TryPublish</c> because the ingress queue was full.</summary>
    public long PublishesRejected { get; internal init; }

    /// <summary>
    /// Events accepted at publish that the pump could not broadcast (an unexpected failure while
    /// encoding one, for example a list that throws as it is read): each is skipped, logged, and the
    /// broadcast goes on with the next event. Not in <see cref="EventsPublished"/>.
    /// </summary>
    public long EventsFailed { get; internal init; }
}
