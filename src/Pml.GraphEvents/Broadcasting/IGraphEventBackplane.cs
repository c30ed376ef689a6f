namespace Pml.GraphEvents;

/// <summary>
/// Carries events between the hosts of one service (for example Pml.GraphEvents.Redis). With a
/// backplane, the broadcaster does not number events itself: local publishes go to the backplane,
/// which gives each one its place in a shared, ordered log and feeds every host's broadcaster,
/// this one included, through <see cref="Broadcaster.WriteSequencedAsync"/> with the log's ids.
/// So every host delivers the same events in the same order under the same ids, and a client can
/// resume on any host. Internal: the backplanes ship with this library, versioned with it.
/// </summary>
internal interface IGraphEventBackplane : IReplaySource
{
    /// <summary>Called once by the broadcaster that this backplane feeds, from its constructor.</summary>
    void Attach(Broadcaster broadcaster);

    /// <summary>
    /// Queues a locally published event (checked, with its contract, and its data JSON when the check
    /// encoded it) for the shared log without waiting; <see langword="false"/> when it cannot take it.
    /// </summary>
    bool TryPublish(in IngressItem item);

    /// <summary>Queues a locally published event for the shared log. An implementation may wait while its queue is full, or (as the Redis backplane does) never wait and drop its oldest queued event instead.</summary>
    ValueTask PublishAsync(IngressItem item, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="id"/>, newer than anything this host has broadcast, can be an id the
    /// log issued that this host has not read yet (a client moving from a host that is ahead).
    /// </summary>
    bool MayHaveIssued(long id);
}
