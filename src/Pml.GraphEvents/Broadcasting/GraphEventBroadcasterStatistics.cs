namespace Pml.GraphEvents;

/// <summary>Counters of a broadcaster since it started.</summary>
/// <param name="SubscriberCount">Subscribers connected now.</param>
/// <param name="LastEventId">The id of the last broadcast event (0 before the first).</param>
/// <param name="EventsPublished">Events the pump has broadcast, heartbeats included.</param>
/// <param name="FramesDelivered">Frames handed to subscriber buffers.</param>
/// <param name="SubscribersEvicted">Subscriptions ended because they lagged.</param>
/// <param name="FramesDropped">Frames discarded by the drop-oldest policy.</param>
/// <param name="SubscribesRefused">Subscribes refused at the subscriber limit.</param>
/// <param name="PublishesRejected">Events refused by <c>TryPublish</c> because the ingress queue was full.</param>
/// <param name="EventsFailed">
/// Events accepted at publish that the pump could not broadcast (an unexpected failure while
/// encoding one, for example a list that throws as it is read): each is skipped, logged, and the
/// broadcast goes on with the next event. Not in <paramref name="EventsPublished"/>.
/// </param>
public readonly record struct GraphEventBroadcasterStatistics(
    int SubscriberCount,
    long LastEventId,
    long EventsPublished,
    long FramesDelivered,
    long SubscribersEvicted,
    long FramesDropped,
    long SubscribesRefused,
    long PublishesRejected,
    long EventsFailed);
